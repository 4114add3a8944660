"""benchmarks/deploy_footprint.py: each way runs in a fresh child process and reports what it loaded and cost."""


def test_a_torch_free_child_and_a_torch_child_report_their_footprint(benchmark_script):
    m = benchmark_script("deploy_footprint")
    free = m.child(m.NO_TORCH, "default", calls=2)
    torched = m.child("import torch\n", "default", calls=2)
    assert free["torch"] is False and torched["torch"] is True
    assert free["to_first_s"] > 0 and free["steady_ms"] > 0 and free["steady16_ms"] > 0
    assert 30 < free["peak_mib"] < torched["peak_mib"]  # torch in the process costs memory, measured in the child
