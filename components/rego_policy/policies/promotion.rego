# The default promotion rule of kfp-gates: no deployment if accuracy < data.min_accuracy.
# Set the threshold in the policy file: gates.policy_gate.data.min_accuracy (unset is an error, never a pass).
package main

import rego.v1

deny contains msg if {
	input.metrics.accuracy < data.min_accuracy
	msg := sprintf("accuracy %v is below the minimum %v: no deployment", [input.metrics.accuracy, data.min_accuracy])
}

# Every gate result in the input must have passed (or only warned).
deny contains msg if {
	some gate, result in input.gates
	result.decision == "fail"
	msg := sprintf("gate %v blocked (%v): no deployment", [gate, result.subject.name])
}
