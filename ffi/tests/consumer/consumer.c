/* A program that finds portcullis through pkg-config or CMake, as a C user's would. */
#include <stdio.h>

#include <portcullis.h>

int main(void) {
    if (pcl_version() != PCL_VERSION_MAJOR * 10000u + PCL_VERSION_MINOR * 100u + PCL_VERSION_PATCH) {
        fprintf(stderr, "header and library versions differ\n");
        return 1;
    }
    pcl_count_window_config cfg = pcl_count_window_config_default();
    pcl_count_window *w = NULL;
    if (pcl_count_window_new(&cfg, &w) != PCL_STATUS_OK) {
        return 1;
    }
    pcl_status s = pcl_count_window_record(w, PCL_OUTCOME_FAILURE);
    pcl_window_counts c;
    pcl_status t = pcl_count_window_counts(w, &c);
    pcl_count_window_free(w);
    if (s != PCL_STATUS_OK || t != PCL_STATUS_OK || c.failures != 1) {
        return 1;
    }
    printf("consumer ok: portcullis %u\n", pcl_version());
    return 0;
}
