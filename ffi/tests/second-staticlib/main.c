/* One program, two Rust static libraries: libportcullis and an unrelated one. */
#include <stdint.h>
#include <stdio.h>

#include "portcullis.h"

uint32_t second_lib_answer(void);

int main(void) {
    pcl_count_window_config cfg = pcl_count_window_config_default();
    pcl_count_window *w = NULL;
    if (pcl_count_window_new(&cfg, &w) != PCL_STATUS_OK) return 1;
    pcl_count_window_free(w);
    if (second_lib_answer() != 4) return 1;
    printf("two Rust staticlibs linked and ran\n");
    return 0;
}
