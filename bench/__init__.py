"""Pipeline benchmark suite (`crm bench --scale …`): every stage of the pipeline measured in its
own child process (wall, CPU incl. children, peak RSS) beside a baseline from the same run.
Entry point: `bench.suite.run_suite`."""
