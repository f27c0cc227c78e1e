# Install rules and the Debian package (issue 17 item 7: plain VMs, docs/install-debian.md).
#
#   cmake --install build [--prefix /usr]     # binaries, console front end, protos, units, env files
#   ninja -C build deb                        # builds what is installed, then cpack -G DEB
#
# Layout (GNUInstallDirs), for the prefix /usr of the package:
#   bin/stratus-{ingest,detector,recognition,mask,sentiment,console}, bin/stratus, bin/stratus-train
#   share/stratus/console (the web front end; stratus-console finds it beside its binary)
#   share/stratus/proto (stratus/v1/*.proto and the google/rpc ones they import)
#   share/stratus/prices, share/stratus/jobs, share/doc/stratus
#   lib/systemd/system/stratus-<service>.service, stratus.target; lib/sysusers.d/stratus.conf
#   /etc/stratus/stratus.env and <service>.env (prefix/etc for other prefixes)
# Models are not installed: they are made into a cache (make models) and copied to the model
# folder the env files name.
#
# `install` does not build `all` first (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY): a build folder made
# with narrow targets packages without compiling every test. Target stratus_install_inputs
# builds exactly what is installed; a missing one makes the install fail, naming the file.
include(GNUInstallDirs)
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(STRATUS_INSTALLED_BINARIES
    stratus-ingest stratus-detector stratus-recognition stratus-mask stratus-sentiment
    stratus-console stratus stratus_train_bin)
set(STRATUS_SYSTEMD_SERVICES ingest detector recognition mask sentiment console)

add_custom_target(stratus_install_inputs)
foreach(target IN LISTS STRATUS_INSTALLED_BINARIES)
  if(TARGET ${target})
    install(TARGETS ${target} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    add_dependencies(stratus_install_inputs ${target})
  endif()
endforeach()

# The console's built front end (services/console/web: ${CMAKE_BINARY_DIR}/console/web).
if(TARGET console_web)
  install(DIRECTORY ${CMAKE_BINARY_DIR}/console/web/
          DESTINATION ${CMAKE_INSTALL_DATADIR}/stratus/console)
  add_dependencies(stratus_install_inputs console_web)
endif()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/proto/stratus ${PROJECT_SOURCE_DIR}/proto/google
        DESTINATION ${CMAKE_INSTALL_DATADIR}/stratus/proto
        FILES_MATCHING PATTERN "*.proto")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/prices/ DESTINATION ${CMAKE_INSTALL_DATADIR}/stratus/prices)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/jobs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/stratus/jobs)
install(FILES ${PROJECT_SOURCE_DIR}/docs/install-debian.md ${PROJECT_SOURCE_DIR}/deploy/systemd/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# systemd: the user, the target, and the units and env files, whose paths depend on the prefix
# of *this* install (cpack installs with /usr while the build folder may say /usr/local), so
# they are filled in at install time. Units and sysusers live under prefix/lib (systemd reads
# /usr/local/lib/systemd/system too); the env files under /etc for /usr, else prefix/etc.
set(_systemd ${PROJECT_SOURCE_DIR}/deploy/systemd)
install(FILES ${_systemd}/stratus.sysusers DESTINATION lib/sysusers.d RENAME stratus.conf)
install(CODE "
  set(_src \"${_systemd}\")
  set(_stage \"${CMAKE_BINARY_DIR}/package/systemd\")
  set(_services \"${STRATUS_SYSTEMD_SERVICES}\")
  set(STRATUS_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(STRATUS_DATADIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}\")
  set(STRATUS_DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\")
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(STRATUS_SYSCONFDIR /etc)
  else()
    set(STRATUS_SYSCONFDIR \"\${CMAKE_INSTALL_PREFIX}/etc\")
  endif()
  file(REMOVE_RECURSE \"\${_stage}\")
  configure_file(\"\${_src}/stratus.target.in\" \"\${_stage}/stratus.target\" @ONLY)
  set(_units \"\${_stage}/stratus.target\")
  set(_envs \"\${_stage}/stratus.env\")
  configure_file(\"\${_src}/env/stratus.env\" \"\${_stage}/stratus.env\" @ONLY)
  foreach(s IN LISTS _services)
    configure_file(\"\${_src}/stratus-\${s}.service.in\" \"\${_stage}/stratus-\${s}.service\" @ONLY)
    configure_file(\"\${_src}/env/\${s}.env\" \"\${_stage}/\${s}.env\" @ONLY)
    list(APPEND _units \"\${_stage}/stratus-\${s}.service\")
    list(APPEND _envs \"\${_stage}/\${s}.env\")
  endforeach()
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" TYPE FILE FILES \${_units})
  file(INSTALL DESTINATION \"\${STRATUS_SYSCONFDIR}/stratus\" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ FILES \${_envs})
")

# ---- the .deb ----------------------------------------------------------------------------------
# LibTorch comes from Debian (libtorch1.13), like every other library the binaries load, so
# dpkg-shlibdeps derives all of Depends and nothing is bundled; the binaries have no RPATH.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME stratus)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Stratus maintainers <stratus@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Video analytics services: detection, recognition, mask, sentiment, ingest, web console")
set(CPACK_PACKAGE_DESCRIPTION
    "gRPC services compatible with Rekognition and Comprehend, the stratus CLI and systemd units.\n Models are not included: see /usr/share/doc/stratus/install-debian.md.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Besides the shared libraries: Tesseract's English data (DetectText) and the user tools.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tesseract-ocr-eng, systemd | adduser")
# OpenBLAS replaces the reference BLAS LibTorch would use (8x, models/README.md); PostgreSQL is
# run by the operator, maybe elsewhere.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-pthread")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql")
# The env files are the operator's: conffiles, kept across upgrades.
set(_conffiles "/etc/stratus/stratus.env\n")
foreach(s IN LISTS STRATUS_SYSTEMD_SERVICES)
  string(APPEND _conffiles "/etc/stratus/${s}.env\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/package/control/conffiles "${_conffiles}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/package/control/conffiles
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

add_custom_target(deb
  COMMAND ${CMAKE_CPACK_COMMAND} -G DEB --config ${CMAKE_BINARY_DIR}/CPackConfig.cmake
          -B ${CMAKE_BINARY_DIR}/package
  DEPENDS stratus_install_inputs
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "cpack: ${CMAKE_BINARY_DIR}/package/stratus_${PROJECT_VERSION}-1_<arch>.deb"
  VERBATIM)

# The package end to end: cpack, its contents, an install into a fresh root, the binaries run
# from there, the units through systemd-analyze verify (tests/package/package_deb_test.sh).
add_test(NAME package_deb_test
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/package/package_deb_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(package_deb_test PROPERTIES TIMEOUT 900 LABELS "package;slow")
