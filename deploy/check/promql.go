package main

import (
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
)

// checkRules parses every alert's expression with Prometheus' own PromQL parser, so a rule Prometheus would reject
// (and the Operator would refuse to load) fails here.
func checkRules(rule *monitoringv1.PrometheusRule) error {
	for _, group := range rule.Spec.Groups {
		for _, r := range group.Rules {
			if _, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr.String()); err != nil {
				return fmt.Errorf("group %s, alert %s: %w", group.Name, r.Alert, err)
			}
		}
	}
	return nil
}
