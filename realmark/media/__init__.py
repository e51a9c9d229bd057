"""Reading and writing media files safely."""
