import sys

from .main import main

if __name__ == "__main__":  # not again in a worker process that re-imports the main module
    sys.exit(main())
