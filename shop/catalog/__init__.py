"""The catalogue: categories, products with their SKUs, images and stock."""
