# Helpers that keep every src/ folder one library target with explicit links.

# haul_module(NAME SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# Declares library haul_NAME from the folder's non-test sources. Every
# dependency is linked PRIVATE: a module gets what it names, not what its
# dependencies happen to use (DEPS: haul modules and libraries its own
# headers refer to; PRIVATE_DEPS: only its .cpp files). Which folders may
# include which is cmake/layers.txt, checked by the `layering` test.
function(haul_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(haul_${name} STATIC ${ARG_SOURCES})
  target_include_directories(haul_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(haul_${name} PRIVATE ${ARG_DEPS} ${ARG_PRIVATE_DEPS})
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

# haul_embed_text(TARGET FILE NAMESPACE FUNCTION)
# Compiles FILE into TARGET as `std::string_view NAMESPACE::FUNCTION()`,
# regenerated whenever FILE changes. Declare the function in a header.
function(haul_embed_text target input namespace function)
  get_filename_component(input "${input}" ABSOLUTE)
  get_filename_component(name "${input}" NAME)
  set(output "${CMAKE_CURRENT_BINARY_DIR}/generated/${name}.cpp")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} -DINPUT=${input} -DOUTPUT=${output} -DNAMESPACE=${namespace}
            -DFUNCTION=${function} -P ${PROJECT_SOURCE_DIR}/cmake/embed_text.cmake
    DEPENDS "${input}" "${PROJECT_SOURCE_DIR}/cmake/embed_text.cmake"
    COMMENT "Embedding ${name}"
    VERBATIM)
  target_sources(${target} PRIVATE "${output}")
endfunction()

# haul_embed_web(TARGET DIR)
# Compiles every file under DIR (README.md excepted) into TARGET as
# haul::api::embedded_web_files(), regenerated when a file changes, appears
# or goes away (the list is globbed again at build time).
function(haul_embed_web target dir)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS "${dir}/*")
  list(FILTER files EXCLUDE REGEX "/README\\.md$")
  list(SORT files)
  string(REPLACE ";" "|" joined "${files}")
  set(output "${CMAKE_CURRENT_BINARY_DIR}/generated/web_files.cpp")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} -DROOT=${dir} -DFILES=${joined} -DOUTPUT=${output}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_web.cmake
    DEPENDS ${files} "${PROJECT_SOURCE_DIR}/cmake/embed_web.cmake"
    COMMENT "Embedding the web UI (web/)"
    VERBATIM)
  target_sources(${target} PRIVATE "${output}")
endfunction()

