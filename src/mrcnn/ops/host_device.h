// Marks arithmetic shared by the CPU kernels and the CUDA kernels (compiled by nvcc for both).
#pragma once

#ifdef __CUDACC__
#define MRCNN_HOST_DEVICE __host__ __device__
#else
#define MRCNN_HOST_DEVICE
#endif
