# Files of src/sources/hf (paths relative to that folder).
set(HF_SOURCES)
set(HF_TESTS)
