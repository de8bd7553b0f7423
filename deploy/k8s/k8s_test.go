package k8s

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// decodeStrict decodes one YAML document into out, refusing duplicate keys
// and fields the type does not have.
func decodeStrict(doc []byte, out any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// objects are the manifests of this directory, by kind and name.
type objects struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	jobs        map[string]*batchv1.Job
	claims      map[string]*corev1.PersistentVolumeClaim
	pods        map[string]*corev1.Pod
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decodeFile decodes every document of a manifest file into o.
func (o *objects) decodeFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range docSep.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("%s document %d: %v", path, i, err)
		}
		var obj interface{ GetName() string }
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "v1 Pod":
			obj = &corev1.Pod{}
		default:
			t.Fatalf("%s document %d: unexpected %s %s", path, i, head.APIVersion, head.Kind)
		}
		if err := decodeStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s document %d (%s): %v", path, i, head.Kind, err)
		}
		switch x := obj.(type) {
		case *appsv1.Deployment:
			o.deployments[x.Name] = x
		case *corev1.Service:
			o.services[x.Name] = x
		case *batchv1.Job:
			o.jobs[x.Name] = x
		case *corev1.PersistentVolumeClaim:
			o.claims[x.Name] = x
		case *corev1.Pod:
			o.pods[x.Name] = x
		}
	}
}

func manifests(t *testing.T) *objects {
	o := &objects{map[string]*appsv1.Deployment{}, map[string]*corev1.Service{}, map[string]*batchv1.Job{},
		map[string]*corev1.PersistentVolumeClaim{}, map[string]*corev1.Pod{}}
	for _, f := range []string{"controller.yaml", "job.yaml", "collect.yaml"} {
		o.decodeFile(t, f)
	}
	return o
}

// flags reads --name=value arguments.
func flags(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
			m[k] = v
		}
	}
	return m
}

// TestStrictDecoding: the decoder the manifests pass refuses a misspelled
// field and a duplicate key, so passing it means something.
func TestStrictDecoding(t *testing.T) {
	var job batchv1.Job
	if err := decodeStrict([]byte("apiVersion: batch/v1\nkind: Job\nspec:\n  completionsMode: Indexed\n"), &job); err == nil || !strings.Contains(err.Error(), "completionsMode") {
		t.Errorf("a misspelled field: %v", err)
	}
	if err := decodeStrict([]byte("apiVersion: batch/v1\nkind: Job\nspec:\n  completions: 3\n  completions: 4\n"), &job); err == nil {
		t.Error("a duplicate key decoded")
	}
}

// TestIndexedJob: the load Job is an Indexed Job whose M pods run
// `lmfast controller --process-id $(JOB_COMPLETION_INDEX)
// --num-processes-total M` against the controller Service's ports, and
// write their JSONL on the volume the collector reads.
func TestIndexedJob(t *testing.T) {
	o := manifests(t)
	job := o.jobs["lmfast-load"]
	if job == nil {
		t.Fatal("no Job lmfast-load")
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Fatalf("completionMode %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism || *s.Completions < 2 {
		t.Fatalf("completions %v, parallelism %v: want equal, at least 2", s.Completions, s.Parallelism)
	}
	m := int(*s.Completions)
	if s.BackoffLimit == nil || *s.BackoffLimit != 0 || s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("backoffLimit %v, restartPolicy %q: a retried pod would load twice under one process id", s.BackoffLimit, s.Template.Spec.RestartPolicy)
	}
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers", len(s.Template.Spec.Containers))
	}
	c := s.Template.Spec.Containers[0]
	if len(c.Command) != 1 || c.Command[0] != "lmfast" || len(c.Args) == 0 || c.Args[0] != "controller" {
		t.Fatalf("command %q args %q", c.Command, c.Args)
	}
	f := flags(c.Args)
	if f["--process-id"] != "$(JOB_COMPLETION_INDEX)" || f["--num-processes-total"] != strconv.Itoa(m) {
		t.Errorf("--process-id %q, --num-processes-total %q; want $(JOB_COMPLETION_INDEX) and %d", f["--process-id"], f["--num-processes-total"], m)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["JOB_COMPLETION_INDEX"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
		e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("JOB_COMPLETION_INDEX %+v", e)
	}
	if e := env["LMFAST_RUN_LABEL"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || !strings.Contains(e.ValueFrom.FieldRef.FieldPath, "controller-uid") {
		t.Errorf("LMFAST_RUN_LABEL %+v: want the Job's uid, shared by its pods", e)
	}
	// The controller it targets is the Service of controller.yaml, on the
	// ports the controller listens on.
	svc := o.services[f["--controller-host"]]
	if svc == nil {
		t.Fatalf("--controller-host %q is no Service here", f["--controller-host"])
	}
	var ports map[string]int32
	if err := json.Unmarshal([]byte(f["--monitor-ports"]), &ports); err != nil {
		t.Fatalf("--monitor-ports %q: %v", f["--monitor-ports"], err)
	}
	svcPorts := map[string]int32{}
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Name] = p.Port
	}
	for name, port := range ports {
		if svcPorts[name] != port {
			t.Errorf("--monitor-ports %s %d; the Service's %s port is %d", name, port, name, svcPorts[name])
		}
	}
	// The JSONL goes per pod onto the volume the collector mounts.
	out := f["--out"]
	if !strings.Contains(out, "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("--out %q: the pods would overwrite one file", out)
	}
	claim := mountedClaim(t, s.Template.Spec, c, out)
	if o.claims[claim] == nil {
		t.Errorf("volume claim %q is not in job.yaml", claim)
	}
	col := o.pods["lmfast-collect"]
	if col == nil {
		t.Fatal("no collector pod")
	}
	script := strings.Join(col.Spec.Containers[0].Args, " ")
	mount := out[:strings.LastIndex(out, "/")]
	if mountedClaim(t, col.Spec, col.Spec.Containers[0], mount+"/x") != claim || !strings.Contains(script, "lmfast report") || !strings.Contains(script, mount+"/lmfast-*.jsonl") {
		t.Errorf("the collector does not report %s/lmfast-*.jsonl of claim %s: %q", mount, claim, script)
	}
	img := o.deployments["lmfast-controller"].Spec.Template.Spec.Containers[0].Image
	if c.Image != img || col.Spec.Containers[0].Image != img {
		t.Errorf("images %q (job), %q (collector), %q (controller) differ", c.Image, col.Spec.Containers[0].Image, img)
	}
}

// mountedClaim returns the PVC mounted at the directory holding path.
func mountedClaim(t *testing.T, pod corev1.PodSpec, c corev1.Container, path string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			for _, v := range pod.Volumes {
				if v.Name == m.Name && v.PersistentVolumeClaim != nil {
					return v.PersistentVolumeClaim.ClaimName
				}
			}
		}
	}
	t.Errorf("%s is on no mounted volume claim", path)
	return ""
}

// TestControllerManifest: the Deployment runs controller-server on the
// ports its Service exposes, /metrics included, and the Service selects
// its pods.
func TestControllerManifest(t *testing.T) {
	o := manifests(t)
	d, svc := o.deployments["lmfast-controller"], o.services["lmfast-controller"]
	if d == nil || svc == nil {
		t.Fatal("no Deployment and Service lmfast-controller")
	}
	labels := d.Spec.Template.Labels
	for k, v := range d.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("the Deployment's selector %s=%s does not match its pods", k, v)
		}
	}
	for k, v := range svc.Spec.Selector {
		if labels[k] != v {
			t.Errorf("the Service's selector %s=%s does not match the controller's pods", k, v)
		}
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Args[0] != "controller-server" {
		t.Fatalf("args %q", c.Args)
	}
	f := flags(c.Args)
	named := map[string]int32{}
	for _, p := range c.Ports {
		named[p.Name] = p.ContainerPort
	}
	for flag, name := range map[string]string{"--pull-port": "pull", "--reply-port": "reply", "--heartbeat-port": "heartbeat", "--http-port": "metrics"} {
		if f[flag] != strconv.Itoa(int(named[name])) || named[name] == 0 {
			t.Errorf("%s %q, container port %s %d", flag, f[flag], name, named[name])
		}
	}
	if f["--host"] != "0.0.0.0" {
		t.Errorf("--host %q: other pods could not connect", f["--host"])
	}
	for _, p := range svc.Spec.Ports {
		if named[p.TargetPort.String()] == 0 {
			t.Errorf("Service port %s targets %q, no container port of that name", p.Name, p.TargetPort.String())
		}
	}
	if svc.Annotations["prometheus.io/port"] != strconv.Itoa(int(named["metrics"])) {
		t.Errorf("prometheus.io/port %q, metrics port %d", svc.Annotations["prometheus.io/port"], named["metrics"])
	}
	if rp := c.ReadinessProbe; rp == nil || rp.HTTPGet == nil || rp.HTTPGet.Path != "/metrics" {
		t.Errorf("readiness probe %+v", rp)
	}
}

// stage is one FROM ... AS name stage of a Dockerfile.
type stage struct {
	from, name string
	lines      []string // the stage's instructions, continuation lines joined
}

// dockerStages parses the Dockerfile's ARGs before the first FROM and its
// stages.
func dockerStages(t *testing.T) (args map[string]string, stages []*stage) {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	args = map[string]string{}
	joined := strings.ReplaceAll(string(data), "\\\n", " ")
	sc := bufio.NewScanner(strings.NewReader(joined))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		word, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(word) {
		case "FROM":
			f := strings.Fields(rest)
			s := &stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
		case "ARG":
			if len(stages) == 0 {
				k, v, _ := strings.Cut(rest, "=")
				args[k] = v
			}
		}
		if len(stages) > 0 {
			stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, l)
		}
	}
	return args, stages
}

// aptInstalls returns the packages a stage's apt-get install lines name.
func aptInstalls(s *stage) []string {
	var pkgs []string
	for _, l := range s.lines {
		i := strings.Index(l, "apt-get install")
		if i < 0 {
			continue
		}
		for _, w := range strings.Fields(l[i+len("apt-get install"):]) {
			if w == "&&" {
				break
			}
			if !strings.HasPrefix(w, "-") {
				pkgs = append(pkgs, w)
			}
		}
	}
	return pkgs
}

// makefileBIN is the Makefile's BIN, where `make build` puts the binary.
func makefileBIN(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^BIN\s*:?=\s*(\S+)`).FindSubmatch(data)
	if m == nil || !regexp.MustCompile(`(?m)^build:`).Match(data) {
		t.Fatal("the Makefile has no BIN or no build target")
	}
	return string(m[1])
}

// TestDockerfileStages: a build stage on Go's Debian image that installs
// what cgo needs and runs the Makefile's build, and a runtime stage on the
// same Debian release with only libzmq and the binary the build made.
func TestDockerfileStages(t *testing.T) {
	args, stages := dockerStages(t)
	if len(stages) != 2 || stages[0].name != "build" || stages[1].name != "runtime" {
		t.Fatalf("stages %+v: want build, runtime", stages)
	}
	build, runtime := stages[0], stages[1]
	deb := args["DEBIAN"]
	if deb == "" || build.from != "golang:1.26-${DEBIAN}" || runtime.from != "debian:${DEBIAN}-slim" {
		t.Errorf("FROM %q and %q with DEBIAN=%q: want one Debian release for both", build.from, runtime.from, deb)
	}
	if got := aptInstalls(build); !equalSets(got, []string{"libzmq3-dev", "pkg-config"}) {
		t.Errorf("build stage installs %q", got)
	}
	if got := aptInstalls(runtime); !equalSets(got, []string{"libzmq5"}) {
		t.Errorf("runtime stage installs %q, want only libzmq5", got)
	}
	ranMake := false
	for _, l := range build.lines {
		if strings.HasPrefix(l, "RUN make build") {
			ranMake = true
		}
	}
	if !ranMake {
		t.Error("the build stage does not run `make build`")
	}
	bin := makefileBIN(t)
	var copied, entry bool
	for _, l := range runtime.lines {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "COPY" && f[1] == "--from=build" {
			copied = f[2] == "/src/"+bin && f[3] == "/usr/local/bin/lmfast"
		}
		if l == `ENTRYPOINT ["lmfast"]` {
			entry = true
		}
	}
	if !copied || !entry {
		t.Errorf("the runtime stage does not copy /src/%s to /usr/local/bin/lmfast (%v) or run it (%v)", bin, copied, entry)
	}
	for _, l := range runtime.lines {
		if strings.HasPrefix(l, "COPY") && !strings.Contains(l, "--from=build") {
			t.Errorf("the runtime stage copies more than the binary: %s", l)
		}
	}
}

func equalSets(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}

// TestDockerPackagesExistInDebian asks this machine's apt (when it runs
// the Dockerfile's Debian release and has package lists) whether every
// package the Dockerfile installs has a candidate.
func TestDockerPackagesExistInDebian(t *testing.T) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		t.Skip("no apt-cache on this machine")
	}
	args, stages := dockerStages(t)
	osRelease, _ := os.ReadFile("/etc/os-release")
	codename := regexp.MustCompile(`(?m)^VERSION_CODENAME=(\S+)`).FindSubmatch(osRelease)
	if codename == nil || string(codename[1]) != args["DEBIAN"] {
		t.Skipf("this machine is not Debian %s, the Dockerfile's release", args["DEBIAN"])
	}
	lists, _ := os.ReadDir("/var/lib/apt/lists")
	has := false
	for _, e := range lists {
		has = has || strings.Contains(e.Name(), "_Packages") // plain or compressed
	}
	if !has {
		t.Skip("no apt package lists (run apt-get update)")
	}
	// One apt-cache call for all: each reads the whole package lists.
	stageOf := map[string]string{}
	var pkgs []string
	for _, s := range stages {
		for _, pkg := range aptInstalls(s) {
			stageOf[pkg] = s.name
			pkgs = append(pkgs, pkg)
		}
	}
	out, err := exec.Command("apt-cache", append([]string{"policy"}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("apt-cache policy: %v", err)
	}
	candidate := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\S+):\n\s+Installed: \S+\n\s+Candidate: (\S+)`).FindAllStringSubmatch(string(out), -1) {
		candidate[m[1]] = m[2]
	}
	for _, pkg := range pkgs {
		if c := candidate[pkg]; c == "" || c == "(none)" {
			t.Errorf("%s stage: %s has no candidate in Debian %s", stageOf[pkg], pkg, args["DEBIAN"])
		}
	}
}
