"""Foundation throughput: sphere diameter sampling, prescriptions and planning calls per second.

Run: python benchmarks/foundation.py
"""
import time

from dosimetry import planning
from sim.config.devices import get_device


def rate(fn, n_items, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n_items / best, best


def main():
    for key, n in [("glass", 3_400_000), ("resin", 44_000_000)]:
        dev = get_device(key)
        r, t = rate(lambda: dev.sample_diameters_um(n, 1), n, repeat=1 if n > 1e7 else 3)
        print(f"diameter sampling {key:6s}: {n:>11,} spheres in {t:6.2f} s = {r:,.0f} spheres/s")
    calls = 2000
    r, _ = rate(lambda: [planning.partition(tumour_mass_kg=0.3, normal_mass_kg=1.2,
                                            tumour_to_normal=3, normal_dose_Gy=40)
                         for _ in range(calls)], calls)
    print(f"partition model: {r:,.0f} plans/s")
    dev = get_device("glass")
    r, _ = rate(lambda: [dev.prescribe(3.0, 4.0) for _ in range(calls)], calls)
    print(f"glass prescription: {r:,.0f} prescriptions/s")


if __name__ == "__main__":
    main()
