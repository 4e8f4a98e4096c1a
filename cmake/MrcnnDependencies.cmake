# LibTorch comes from the torch wheel in the project's virtual environment unless the caller
# points CMAKE_PREFIX_PATH/Torch_DIR elsewhere.
if(NOT Torch_DIR)
  set(_venv_python "${CMAKE_CURRENT_SOURCE_DIR}/.venv/bin/python")
  if(NOT EXISTS "${_venv_python}")
    find_program(_venv_python NAMES python3 python)
  endif()
  execute_process(
    COMMAND "${_venv_python}" -c "import torch; print(torch.utils.cmake_prefix_path)"
    OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _torch_rc)
  if(_torch_rc EQUAL 0)
    list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
  endif()
endif()

find_package(Torch REQUIRED)
find_package(Threads REQUIRED)

find_package(PkgConfig REQUIRED)
pkg_check_modules(TURBOJPEG REQUIRED IMPORTED_TARGET libturbojpeg)
find_package(PNG REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(simdjson REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED)  # SHA-256 of weights files
find_package(CURL REQUIRED)     # weights by URL
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)  # mrcnn serve

# Torch's imported target carries -D_GLIBCXX_USE_CXX11_ABI=1, matching Debian's libraries.
add_library(mrcnn_torch INTERFACE)
# libtorch.so and libtorch_cpu.so of the wheel export their own static copy of
# std::filesystem, which crashes when called from code built here. Naming libstdc++ first puts
# it ahead of them in the dynamic symbol search order, so our calls resolve to the system's.
target_link_libraries(mrcnn_torch INTERFACE
  "-Wl,--push-state,--no-as-needed" stdc++ "-Wl,--pop-state" ${TORCH_LIBRARIES})
if(MRCNN_CUDA_ENABLED)
  find_package(CUDAToolkit REQUIRED)
  target_link_libraries(mrcnn_torch INTERFACE CUDA::cudart)
  # Our CUDA kernels are built: the ops and the runtime use them.
  target_compile_definitions(mrcnn_torch INTERFACE MRCNN_WITH_CUDA=1)
endif()

# c10d (multi-process training). The wheel's Gloo is compiled into libtorch_cpu, but c10d's
# ProcessGroupGloo header includes Gloo's own headers, which the wheel does not ship; Debian's
# libgloo-dev provides them (declarations only: nothing of it is linked). NCCL's header comes
# with the wheel's nvidia-nccl package. Without them the build still works, single-process.
find_path(MRCNN_GLOO_INCLUDE_DIR gloo/algorithm.h HINTS "${MRCNN_GLOO_INCLUDE_HINT}")
find_path(MRCNN_NCCL_INCLUDE_DIR nccl.h
          HINTS "${TORCH_INSTALL_PREFIX}/../nvidia/nccl/include" "${MRCNN_NCCL_INCLUDE_HINT}")
set(MRCNN_GLOO_ENABLED OFF)
set(MRCNN_NCCL_ENABLED OFF)
if(MRCNN_GLOO_INCLUDE_DIR)
  set(MRCNN_GLOO_ENABLED ON)
  if(MRCNN_CUDA_ENABLED AND MRCNN_NCCL_INCLUDE_DIR)
    set(MRCNN_NCCL_ENABLED ON)
  endif()
endif()
message(STATUS "mrcnn: c10d Gloo ${MRCNN_GLOO_ENABLED}, NCCL ${MRCNN_NCCL_ENABLED}")
