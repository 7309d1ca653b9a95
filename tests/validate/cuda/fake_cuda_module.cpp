// A stand-in for attnsim_cuda.so built for another module ABI: its entry point refuses every
// version, as a module from an older or newer attnsim does. Loaded only by test_cuda_module.cpp.
extern "C" __attribute__((visibility("default"))) const void* attnsim_cuda_module_api(int) {
  return nullptr;
}
