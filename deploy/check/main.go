// Command check validates rendered Kubernetes manifests strictly against Kubernetes' own API types: every object
// is decoded into its k8s.io/api (or Prometheus Operator / KEDA) Go type with unknown and duplicate fields refused,
// so a misspelt or misplaced field, a wrong type or an unknown kind fails the check. It reads multi-document YAML
// from the files given (or stdin) and prints one line per object. `check -compose docker-compose.yml` validates a
// compose file instead (compose.go). Used by scripts/check-deploy.sh.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// customKinds are decoded strictly into the projects' own Go types (the CRDs are generated from them).
var customKinds = map[string]func() any{
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PodMonitor":     func() any { return &monitoringv1.PodMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
	"keda.sh/v1alpha1/ScaledObject":           func() any { return &ScaledObject{} },
}

func main() {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, policyv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

	if len(os.Args) == 3 && os.Args[1] == "-compose" {
		if err := checkCompose(os.Args[2]); err != nil {
			fmt.Printf("FAIL %s: %v\n", os.Args[2], err)
			os.Exit(1)
		}
		return
	}
	inputs := os.Args[1:]
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	failures, objects := 0, 0
	for _, input := range inputs {
		var reader io.Reader = os.Stdin
		if input != "-" {
			file, err := os.Open(input)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", input, err)
				os.Exit(2)
			}
			defer file.Close()
			reader = file
		}
		documents := utilyaml.NewYAMLReader(bufio.NewReader(reader))
		for {
			raw, err := documents.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", input, err)
				os.Exit(2)
			}
			if len(bytes.TrimSpace(stripComments(raw))) == 0 {
				continue
			}
			objects++
			name, err := check(decoder, raw)
			if err != nil {
				failures++
				fmt.Printf("FAIL %s: %v\n", name, err)
				continue
			}
			fmt.Printf("ok   %s\n", name)
		}
	}
	fmt.Printf("%d objects, %d invalid\n", objects, failures)
	if failures > 0 || objects == 0 {
		os.Exit(1)
	}
}

func check(decoder runtime.Decoder, raw []byte) (string, error) {
	var meta unstructured.Unstructured
	if err := yaml.Unmarshal(raw, &meta.Object); err != nil {
		return "?", fmt.Errorf("not YAML: %w", err)
	}
	gvk := meta.GroupVersionKind()
	name := fmt.Sprintf("%s %s/%s", meta.GetAPIVersion(), meta.GetKind(), meta.GetName())
	if meta.GetName() == "" {
		return name, errors.New("metadata.name is empty")
	}
	if newObject, ok := customKinds[fmt.Sprintf("%s/%s", meta.GetAPIVersion(), meta.GetKind())]; ok {
		object := newObject()
		if err := yaml.UnmarshalStrict(raw, object); err != nil {
			return name, err
		}
		if rule, ok := object.(*monitoringv1.PrometheusRule); ok {
			return name, checkRules(rule)
		}
		return name, nil
	}
	object, _, err := decoder.Decode(raw, nil, nil)
	if err != nil {
		if runtime.IsNotRegisteredError(err) {
			return name, fmt.Errorf("no schema for %s (not a kind this checker knows)", gvk)
		}
		return name, err
	}
	return name, semantic(object)
}

// semantic adds the checks the API server would make that decoding alone cannot.
func semantic(object runtime.Object) error {
	var selector map[string]string
	var template map[string]string
	var containers []corev1.Container
	switch o := object.(type) {
	case *appsv1.Deployment:
		if o.Spec.Selector == nil {
			return errors.New("spec.selector is required")
		}
		selector, template, containers = o.Spec.Selector.MatchLabels, o.Spec.Template.Labels, o.Spec.Template.Spec.Containers
	case *batchv1.Job:
		containers = o.Spec.Template.Spec.Containers
		if p := o.Spec.Template.Spec.RestartPolicy; p != corev1.RestartPolicyNever && p != corev1.RestartPolicyOnFailure {
			return fmt.Errorf("spec.template.spec.restartPolicy must be Never or OnFailure, got %q", p)
		}
	case *policyv1.PodDisruptionBudget:
		if o.Spec.Selector == nil {
			return errors.New("spec.selector is required")
		}
	}
	if selector != nil && !labels.SelectorFromSet(selector).Matches(labels.Set(template)) {
		return errors.New("spec.selector does not match spec.template.metadata.labels")
	}
	for i, c := range containers {
		if c.Name == "" || c.Image == "" {
			return fmt.Errorf("containers[%d]: name and image are required", i)
		}
	}
	return nil
}

func stripComments(raw []byte) []byte {
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\n"))
}
