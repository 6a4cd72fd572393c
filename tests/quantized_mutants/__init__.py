"""8-bit optimizers on bitsandbytes' state layout, correct and with one realistic quantization bug each.

``bnb_nearest`` holds bitsandbytes' own Adam8bit, AdamW8bit and Lion8bit with their CPU kernel's
state quantized to the nearest code (bitsandbytes' default-backend quantizer, which its CUDA
kernels match). ``blockwise`` holds a small 8-bit Adam with blocks of 4 elements, so that the
golden cases' tensors (4 to 12 elements for Adam) hold several blocks, and its mutants.
"""
