# sy_add_module(NAME SOURCES ... DEPS ... PRIVATE_DEPS ...)
# One static library per module; modules link only downwards (ARCHITECTURE.md §3).
function(sy_add_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(sy_${name} STATIC ${M_SOURCES})
  target_include_directories(sy_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(sy_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
endfunction()
