"""Self-describing HDF5 results: provenance, atomic writes, the results schema, the run
summary, reading results back and drawing every figure from the file alone."""
from sim.results.io import FILETYPE, SCHEMA_VERSION, ResultsError, results_writer
from sim.results.reader import Results, open_results
from sim.results.summary import SUMMARY_METRICS, run_summary

__all__ = ["Results", "open_results", "ResultsError", "results_writer", "FILETYPE",
           "SCHEMA_VERSION", "SUMMARY_METRICS", "run_summary"]
