"""Write a large-tenant scenario: python bench/gen_scenario.py --servers 10000 --volumes 30000 -o big.yaml"""
import sys

from recon.sim.cli import generate_main

if __name__ == "__main__":
    sys.exit(generate_main())
