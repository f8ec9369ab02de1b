-- wrk script for docs/deploy/load-test.sh: every request is a TF Serving row-format :predict with
-- one instance of Fixtures/lstm_sequences/input_0.npy (5 steps of 3 features).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("RNNKIT_WRK_BODY") or
  '{"instances": [[[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [0.7, 0.8, 0.9], [-1.0, 1.1, 1.2], [1.3, -1.4, 1.5]]]}'
