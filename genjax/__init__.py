"""genjax: generative models of images in JAX/Flax."""
