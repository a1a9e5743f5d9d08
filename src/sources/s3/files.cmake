# Files of src/sources/s3 (paths relative to that folder).
set(S3_SOURCES)
set(S3_TESTS)
