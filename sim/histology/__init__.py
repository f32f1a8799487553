"""Virtual histology: the published protocols of microsphere histology (punch biopsies, serial
sections, sphere counts, clusters, small-scale dose, activity of tissue samples against their
mass) applied to a simulated liver, beside the published values (docs/physics.md, "Virtual
histology"). Plain functions on plain arrays, each usable alone; ``virtual_histology(path)``
strings them together and ``taresim histology RESULTS.h5`` runs it from the shell."""
from sim.histology.api import load_spheres, virtual_histology
from sim.histology.biopsy import Biopsy, place_biopsies, section_index
from sim.histology.clusters import cluster_shapes, find_clusters, fraction_in_clusters
from sim.histology.dose import dose_summary, papers_dose, true_dose
from sim.histology.sampling import activity_vs_mass, moments

__all__ = ["virtual_histology", "load_spheres", "Biopsy", "place_biopsies", "section_index",
           "find_clusters", "cluster_shapes", "fraction_in_clusters", "papers_dose",
           "true_dose", "dose_summary", "activity_vs_mass", "moments"]
