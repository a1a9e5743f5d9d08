# Files of src/sources/s3 (paths relative to that folder).
set(S3_SOURCES sigv4.cpp s3_ref.cpp s3_list.cpp)
set(S3_TESTS sigv4_test.cpp s3_ref_test.cpp s3_list_test.cpp)
list(APPEND S3_SOURCES s3_resolver.cpp)
