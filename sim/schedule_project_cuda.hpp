// Launch geometry of this project's own CUDA kernels (validate/cuda/cuda_flash.cu, cuda_decode.cu,
// cuda_unfused.cu): what `attnsim validate --backend cuda` times. The schedules project_flash,
// project_split_kv, project_unfused and project_linear (schedule_project_cuda*.cpp, where the
// derivation is written out) price these kernels as they are, not FlashAttention-2.
#pragma once

#include "hwprofiles/profile.hpp"

namespace sim::project_cuda {

// flash_kernel<D>: kBlockM x kBlockN tiles, kFlashThreads threads (4 warps of 16 rows).
inline constexpr double kFlashBlockM = 64;
inline constexpr double kFlashBlockN = 64;
inline constexpr double kFlashThreads = 128;
// split_kernel<D, DV>: 4 warps, each taking 4 keys per step, so one loop step of the CTA covers
// kSplitKeysPerStep keys of one query row; combine_kernel: 128 threads per (batch, head).
inline constexpr double kSplitThreads = 128;
inline constexpr double kSplitKeysPerStep = 16;
inline constexpr double kCombineThreads = 128;
// softmax_kernel (unfused): one CTA of 256 threads per score row.
inline constexpr double kSoftmaxThreads = 256;
// linear_kernel<D>: one CTA of 256 threads per (batch, head).
inline constexpr double kLinearThreads = 256;

// Dynamic shared memory of flash_kernel<D> (FlashSmem<D>::bytes): Q, K, V half tiles with rows
// padded to D + 8, fp32 scores [64][68], fp16 P [64][72], fp32 O [64][D + 4], m and l.
double flash_smem_bytes(double head_dim);
// Static shared memory of split_kernel<D, DV>: sh_m[4], sh_l[4], sh_o[4][DV] floats.
double split_smem_bytes(double v_head_dim);
// Dynamic shared memory of linear_kernel<D> (validate/cuda/cuda_linear_layout.hpp): the fp32 D x D
// state, fp32 scores [C][C], then Q [C][D], K^T [D][C], V [C][D] in half, each from a 16-byte
// boundary.
double linear_smem_bytes(double head_dim, double chunk);

// Registers per thread from `nvcc -Xptxas -v` (CUDA 13.0, -O3) for the device's architecture,
// rounded up to the allocation unit of 8 per thread.
double flash_regs(const hw::Profile& p, double head_dim);
double split_regs(const hw::Profile& p, double head_dim);

}  // namespace sim::project_cuda
