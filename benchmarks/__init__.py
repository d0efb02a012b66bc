"""On-demand performance benchmarks (see ``benchmarks/README.md``)."""
