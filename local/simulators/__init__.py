"""HTTP simulators of the upstream services, seeded, with failure switches for fault tests."""
