# Helpers that keep every src/ folder one library target with explicit links.

# haul_module(NAME SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# Declares library haul_NAME from the folder's non-test sources.
function(haul_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(haul_${name} STATIC ${ARG_SOURCES})
  target_include_directories(haul_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(haul_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# haul_unit_tests(NAME SOURCES ... DEPS ...)
# One GoogleTest binary per module; each test case is registered with CTest.
function(haul_unit_tests name)
  if(NOT HAUL_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 30)
endfunction()
