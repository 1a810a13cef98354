// jest ignores `testTimeout` inside a `projects` entry; integration tests wait on real brokers and processes.
jest.setTimeout(120_000);
