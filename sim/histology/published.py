"""Published histology of Y-90 microspheres in liver: the values the virtual histology is set
beside (data only, with sources). ``None`` marks a value the abstracts do not give (NOT
FOUND); a qualitative finding is kept as its sentence.

References
----------
.. [1] Högberg J, Rizell M, Hultborn R et al. Increased absorbed liver dose in Selective
       Internal Radiation Therapy (SIRT) correlates with increased sphere-cluster frequency and
       absorbed dose inhomogeneity. EJNMMI Phys 2015;2:10, doi 10.1186/s40658-015-0113-4.
.. [2] Högberg J, Rizell M, Hultborn R et al. Heterogeneity of microsphere distribution in
       resected liver and tumour tissue following selective intrahepatic radiotherapy.
       EJNMMI Res 2014;4:48, doi 10.1186/s13550-014-0048-0.
.. [3] Kennedy AS, Nutting C, Coldwell D et al. Pathologic response and microdosimetry of 90Y
       microspheres in man: review of four explanted whole livers. Int J Radiat Oncol Biol
       Phys 2004;60:1552-1563.
.. [4] Roberson PL, Ten Haken RK, McShan DL et al. Three-dimensional tumor dosimetry for
       hepatic yttrium-90-microsphere therapy. 1992 (rabbit VX2).
"""
from __future__ import annotations

__all__ = ["HOGBERG_2015", "HOGBERG_2014", "KENNEDY_2004", "ROBERSON_1992"]

#: Högberg 2015 [1]: resin, 1 patient, resection 9 days after SIRT.
HOGBERG_2015 = {
    "source": "Högberg et al., EJNMMI Phys 2015;2:10 (resin, 1 patient)",
    "biopsies_punched": 41,
    "biopsy_diameter_mm": (6.0, 8.0),
    "slab_mm": (1.0, 2.0),
    "biopsies_sectioned": 16,
    "sections_per_biopsy": 15,
    "section_um": 30.0,
    "sections": 240,
    "spheres_found": 3888,
    "largest_cluster": 453,
    "dose_min_Gy": 5.0,
    "dose_max_Gy": 1240.0,
    "dose_central90_Gy": (10.0, 97.0),
    "below_30Gy": 0.45,
    "cluster_definition": None,
    "kernel_voxel": None,
    "fraction_in_clusters": None,
    "clusters": "strings in arterioles, conglomerates in small arteries",
    "trend": "larger clusters and a greater dose CV with a higher mean biopsy dose",
}

#: Högberg 2014 [2]: resin, 2 patients.
HOGBERG_2014 = {
    "source": "Högberg et al., EJNMMI Res 2014;4:48 (resin, 2 patients)",
    "mass_range_mg": (5.0, 422.0),
    "cv_by_mass": None,
    "skewness_by_mass": None,
    "trend": "the larger the biopsy, the smaller the CV; skewness rises as the mass falls",
}

#: Kennedy 2004 [3]: glass and resin explants; one tumour-edge biopsy serially sectioned.
KENNEDY_2004 = {
    "source": "Kennedy et al., IJROBP 2004;60:1552 (tumour-edge biopsy)",
    "tumour_dose_Gy": (100.0, 3000.0),
    "edge_to_centre": None,
    "trend": "preferential deposition at the edge of tumour nodules",
}

#: Roberson 1992 [4]: rabbit VX2, 200-um serial sections, a 2-mm nodule.
ROBERSON_1992 = {
    "source": "Roberson et al. 1992 (rabbit VX2, 2-mm nodule)",
    "nodule_diameter_mm": 2.0,
    "density_ratio": 15.0,
    "mean_dose_ratio": 2.6,
    "min_dose_ratio": 1.9,
}
