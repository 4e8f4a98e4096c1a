# Decide whether our own CUDA kernels are compiled. AUTO turns them on when a CUDA compiler
# is found; a GPU is never needed to build them.
include(CheckLanguage)

# Torch's CMake (the wheel is a CUDA build) looks for the toolkit and compiles CUDA test
# programs even when we build no kernels, so these apply in every case.
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_EXTENSIONS OFF)
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
  # Torch turns this list into -gencode flags (it ignores CMAKE_CUDA_ARCHITECTURES); naming it
  # also stops it probing for a GPU, which build machines do not have. Ampere and Hopper by
  # default; export TORCH_CUDA_ARCH_LIST to change.
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()

set(MRCNN_CUDA_ENABLED OFF)
if(NOT MRCNN_WITH_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS "/usr/local/cuda/bin/nvcc")
    set(CMAKE_CUDA_COMPILER "/usr/local/cuda/bin/nvcc")
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # Architectures come from TORCH_CUDA_ARCH_LIST through Torch's flags; CMake adds none.
    set(CMAKE_CUDA_ARCHITECTURES OFF)
    enable_language(CUDA)
    set(MRCNN_CUDA_ENABLED ON)
  elseif(MRCNN_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MRCNN_WITH_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
message(STATUS "mrcnn: CUDA kernels ${MRCNN_CUDA_ENABLED}")
