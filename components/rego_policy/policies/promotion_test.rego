# Tests of promotion.rego: `kfp-gates policy test components/rego_policy/policies`.
package main

import rego.v1

test_accuracy_above_the_minimum_passes if {
	count(deny) == 0 with input.metrics as {"accuracy": 0.95} with input.gates as {} with data.min_accuracy as 0.9
}

test_accuracy_below_the_minimum_is_denied if {
	some msg in deny with input.metrics as {"accuracy": 0.8} with input.gates as {} with data.min_accuracy as 0.9
	contains(msg, "accuracy 0.8 is below the minimum 0.9")
}

test_a_failed_gate_is_denied if {
	failed := {"model_scan": {"decision": "fail", "subject": {"name": "model.pkl"}}}
	count(deny) == 1 with input.metrics as {"accuracy": 0.99} with input.gates as failed with data.min_accuracy as 0.9
}
