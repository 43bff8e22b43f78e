module portcullis

go 1.19
