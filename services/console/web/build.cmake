# Script mode helper of CMakeLists.txt (cmake -DMODE=... -P build.cmake): the front end is built
# in a staging folder of the build tree that holds node_modules, so the source tree stays clean.
#   MODE=stage: copy index.html, vite.config.ts, tsconfig.json, src/ and test/ from SRC to STAGE
#               (src/ and test/ replaced whole, so deleted files do not linger);
#   MODE=build: stage, then `vite build` with STRATUS_WEB_OUT=OUT (emptied first by Vite);
#   MODE=test:  stage, then `vitest run` and `tsc --noEmit` (the unit tests and the typecheck).
# NODE is the node executable; STAGE/node_modules comes from `npm ci` (CMakeLists.txt).
foreach(v MODE SRC STAGE NODE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "build.cmake: ${v} is not set")
  endif()
endforeach()

file(MAKE_DIRECTORY "${STAGE}")
file(REMOVE_RECURSE "${STAGE}/src" "${STAGE}/test")
file(COPY "${SRC}/src" "${SRC}/test" DESTINATION "${STAGE}")
foreach(f index.html vite.config.ts tsconfig.json)
  file(COPY "${SRC}/${f}" DESTINATION "${STAGE}")
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${STAGE}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "console_web: `${cmd}` failed (${rc})")
  endif()
endfunction()

set(nm "${STAGE}/node_modules")
if(MODE STREQUAL "build")
  if(NOT DEFINED OUT)
    message(FATAL_ERROR "build.cmake: OUT is not set")
  endif()
  set(ENV{STRATUS_WEB_OUT} "${OUT}")
  run("${NODE}" "${nm}/vite/bin/vite.js" build --logLevel warn)
elseif(MODE STREQUAL "test")
  run("${NODE}" "${nm}/vitest/vitest.mjs" run)
  run("${NODE}" "${nm}/typescript/bin/tsc" --noEmit -p tsconfig.json)
elseif(NOT MODE STREQUAL "stage")
  message(FATAL_ERROR "build.cmake: unknown MODE ${MODE}")
endif()
