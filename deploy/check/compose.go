package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

// checkCompose loads a compose file as `docker compose config` does — the Compose Specification's JSON schema,
// interpolation, extends and anchors, then the model's own consistency checks (depends_on targets, volumes,
// networks) — and prints its services.
func checkCompose(file string) error {
	options, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithName("omnidaemon"),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	for _, name := range project.ServiceNames() {
		fmt.Printf("ok   service %s\n", name)
	}
	return nil
}
