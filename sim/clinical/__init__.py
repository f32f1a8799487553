"""The clinical chain on the simulated truth: Tc-99m-MAA scout in the treatment's tree, its
SPECT, planning from it (T:N, LSF -> MIRD / partition / BSA), the treatment at the planned
activity, post-treatment Y-90 PET and bremsstrahlung SPECT, clinical voxel dosimetry (LDM,
voxel-S) and the comparison of each step with the microscale truth (``taresim chain``)."""
from sim.clinical.chain import ChainResult, run_chain, run_chain_steps
from sim.clinical.scout import ScoutResult, run_scout
from sim.clinical.schema import read_chain

__all__ = ["run_chain", "run_chain_steps", "ChainResult", "run_scout", "ScoutResult",
           "read_chain"]
