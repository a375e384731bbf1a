"""friendli-images: a Python client for Friendli Dedicated Endpoints image generation."""
