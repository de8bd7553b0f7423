package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/lmfast/lmfast/engine/scrape"
)

// jobManifest is what TestK8sJobCommandLocally reads of deploy/k8s/job.yaml
// (deploy/k8s's own tests decode it strictly into k8s.io/api types).
type jobManifest struct {
	Kind string `json:"kind"`
	Spec struct {
		Completions int `json:"completions"`
		Template    struct {
			Spec struct {
				Containers []struct {
					Command      []string `json:"command"`
					Args         []string `json:"args"`
					VolumeMounts []struct {
						MountPath string `json:"mountPath"`
					} `json:"volumeMounts"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

var kubeVar = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// kubeExpand expands $(VAR) as the kubelet does in a container's args: a
// defined variable is replaced, an undefined one left as written, $$ is $.
func kubeExpand(s string, env map[string]string) string {
	return kubeVar.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// TestK8sJobCommandLocally runs the Indexed Job's own container command M
// times as separate processes, with the environment Kubernetes gives each
// pod (JOB_COMPLETION_INDEX, LMFAST_RUN_LABEL) and $(VAR) expanded as the
// kubelet does, against one controller-server; `lmfast report` of their
// files must equal what the controller received and applied, with every
// --raw sample written (samples_dropped 0) and one run label over all
// the files. Only the target (a local server instead of the Service), the
// results directory and the size of the load are changed, and
// --no-headroom and --raw are added.
func TestK8sJobCommandLocally(t *testing.T) {
	var help, stderr bytes.Buffer
	run([]string{"controller", "--help"}, strings.NewReader(""), &help, &stderr)
	if !strings.Contains(help.String(), "--process-id") {
		t.Skip("lmfast controller has no --process-id yet")
	}
	data, err := os.ReadFile("../../deploy/k8s/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job jobManifest
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		var j jobManifest
		if err := yaml.Unmarshal([]byte(doc), &j); err == nil && j.Kind == "Job" {
			job = j
		}
	}
	m := job.Spec.Completions
	if m < 2 || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("job.yaml: %+v", job)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if len(c.Command) != 1 || c.Command[0] != "lmfast" || len(c.VolumeMounts) != 1 {
		t.Fatalf("job.yaml container: %+v", c)
	}

	srv := startServerCmd(t, "controller-server", "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0")
	sc, err := scrape.New(fmt.Sprintf("http://127.0.0.1:%d/metrics", srv.port("http_port")), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Baseline(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	local := map[string]string{
		"--controller-host": "127.0.0.1",
		"--monitor-ports":   fmt.Sprintf(`{"pull":%d,"reply":%d,"heartbeat":%d}`, srv.port("pull_port"), srv.port("reply_port"), srv.port("heartbeat_port")),
		"--duration":        "2",
		"--rate":            "900",
		"--num-instances":   "4",
		"--batch-size":      "20",
	}
	var files []string
	var procs []*processOut
	for k := range m {
		env := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(k), "LMFAST_RUN_LABEL": "job-uid-for-the-test"}
		var args []string
		for _, a := range c.Args {
			a = kubeExpand(a, env)
			name, _, _ := strings.Cut(a, "=")
			switch {
			case local[name] != "":
				a = name + "=" + local[name]
			case name == "--out":
				a = strings.Replace(a, c.VolumeMounts[0].MountPath, dir, 1)
				files = append(files, strings.TrimPrefix(a, "--out="))
			}
			args = append(args, a)
		}
		cmd := lmfastProcess(append(args, "--no-headroom", "--raw")...)
		for name, v := range env {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
		p := &processOut{}
		cmd.Stderr = &p.stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p.cmd = cmd
		procs = append(procs, p)
	}
	for k, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("pod %d: %v: %s", k, err, p.stderr.String())
		}
	}
	if len(files) != m {
		t.Fatalf("%d --out files for %d pods", len(files), m)
	}
	code, out, errs := reportRun(t, append([]string{"--format", "json"}, files...)...)
	if code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	rep := decodeReport(t, out)
	var counts map[string]int64
	for _, row := range rep.Rows {
		if row.Op == "all" {
			counts = row.Counts
		}
	}
	if counts == nil || len(rep.Sources) != m {
		t.Fatalf("report: %d sources, rows %+v", len(rep.Sources), rep.Rows)
	}
	for _, s := range rep.Sources {
		if s.Label != "job-uid-for-the-test" {
			t.Errorf("source %s/%d: run label %q, want the Job's", s.Run, s.Proc, s.Label)
		}
	}
	if counts["samples_written"] == 0 || counts["samples_dropped"] != 0 || rep.Samples != counts["samples_written"] {
		t.Errorf("samples: %d written, %d dropped, %d read by the report", counts["samples_written"], counts["samples_dropped"], rep.Samples)
	}
	if _, ok, err := sc.WaitPull(context.Background(), counts["push_frames_sent"]+counts["teardown_frames_sent"], 10*time.Second, 20*time.Millisecond); !ok {
		t.Fatalf("the controller did not receive every frame: %v", err)
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	summary := srv.rest(t, "summary")
	<-srv.exit
	num := func(k string) int64 { return int64(summary[k].(float64)) }
	if got, want := counts["push_frames_sent"]+counts["teardown_frames_sent"], num("pull_frames"); got != want {
		t.Errorf("frames: report %d, controller received %d", got, want)
	}
	if got := counts["kv_ops_sent"]; got != num("kv_ops_applied") || num("kv_ops_dropped_unregistered") != 0 || got == 0 {
		t.Errorf("KV ops: report %d sent, controller applied %d and dropped %d (pods sharing a worker name?)", got, num("kv_ops_applied"), num("kv_ops_dropped_unregistered"))
	}
	if counts["registered"] != int64(m)*4 {
		t.Errorf("registered %d workers, want %d pods × 4", counts["registered"], m)
	}
}

type processOut struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
}
