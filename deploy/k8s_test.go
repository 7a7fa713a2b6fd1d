package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const k8sDir = "kubernetes"

// manifests is every object of deploy/kubernetes, strictly decoded.
type manifests struct {
	configMaps   map[string]*corev1.ConfigMap
	services     map[string]*corev1.Service
	statefulSets map[string]*appsv1.StatefulSet
	pdbs         map[string]*policyv1.PodDisruptionBudget
	files        []string // the manifest files (not kustomization.yaml)
}

// kustomization is the part of kustomization.yaml this repo uses; decoded
// strictly, so a typo'd field fails.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
}

// loadManifests decodes each YAML document into the API type its kind
// names, rejecting unknown fields and kinds.
func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{
		configMaps:   map[string]*corev1.ConfigMap{},
		services:     map[string]*corev1.Service{},
		statefulSets: map[string]*appsv1.StatefulSet{},
		pdbs:         map[string]*policyv1.PodDisruptionBudget{},
	}
	paths, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		if filepath.Base(path) == "kustomization.yaml" {
			continue
		}
		m.files = append(m.files, filepath.Base(path))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range splitYAML(data) {
			if err := m.add(doc); err != nil {
				t.Fatalf("%s, document %d: %v", path, i+1, err)
			}
		}
	}
	return m
}

// splitYAML splits a multi-document YAML file, dropping empty documents.
func splitYAML(data []byte) [][]byte {
	var out [][]byte
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) != "" {
			out = append(out, []byte(doc))
		}
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	strict := func(v any) error { return yaml.UnmarshalStrict(doc, v) }
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ConfigMap":
		var o corev1.ConfigMap
		if err := strict(&o); err != nil {
			return err
		}
		m.configMaps[o.Name] = &o
	case "v1 Service":
		var o corev1.Service
		if err := strict(&o); err != nil {
			return err
		}
		m.services[o.Name] = &o
	case "apps/v1 StatefulSet":
		var o appsv1.StatefulSet
		if err := strict(&o); err != nil {
			return err
		}
		m.statefulSets[o.Name] = &o
	case "policy/v1 PodDisruptionBudget":
		var o policyv1.PodDisruptionBudget
		if err := strict(&o); err != nil {
			return err
		}
		m.pdbs[o.Name] = &o
	default:
		return fmt.Errorf("unexpected object %s %s", tm.APIVersion, tm.Kind)
	}
	return nil
}

// The names the manifests are built around.
const (
	stsName      = "raftstream"
	headlessName = "raftstream-headless"
	clientName   = "raftstream"
	configName   = "raftstream-config"
	imageUID     = 65532 // USER in deploy/Dockerfile
)

func (m *manifests) statefulSet(t *testing.T) (*appsv1.StatefulSet, *corev1.Container) {
	t.Helper()
	sts := m.statefulSets[stsName]
	if sts == nil {
		t.Fatalf("no StatefulSet %q", stsName)
	}
	cs := sts.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("StatefulSet has %d containers, want 1", len(cs))
	}
	return sts, &cs[0]
}

// TestKubernetesManifests checks the invariants the deployment relies on.
func TestKubernetesManifests(t *testing.T) {
	m := loadManifests(t)
	sts, ctr := m.statefulSet(t)
	spec := sts.Spec
	pod := spec.Template.Spec

	// Kustomize lists exactly the manifest files.
	var k kustomization
	data, err := os.ReadFile(filepath.Join(k8sDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	res := slices.Clone(k.Resources)
	sort.Strings(res)
	if k.Kind != "Kustomization" || !slices.Equal(res, m.files) {
		t.Errorf("kustomization %s resources %v, want the files %v", k.Kind, res, m.files)
	}

	// Cluster shape: 3 voters that start together.
	if spec.Replicas == nil || *spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", spec.Replicas)
	}
	if spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("podManagementPolicy %q, want Parallel (the founders must start at once)", spec.PodManagementPolicy)
	}
	if spec.ServiceName != headlessName {
		t.Errorf("serviceName %q, want %q", spec.ServiceName, headlessName)
	}
	podLabels := spec.Template.Labels
	if !selects(spec.Selector, podLabels) {
		t.Errorf("StatefulSet selector %v does not select its pods %v", spec.Selector, podLabels)
	}

	// Identity and discovery: pod name and stable DNS name, never an IP.
	args := flagMap(t, ctr.Args)
	dnsBase := "$(POD_NAME)." + headlessName + ".$(POD_NAMESPACE).svc.$(CLUSTER_DOMAIN)"
	want := map[string]string{
		"node-id":          "$(POD_NAME)",
		"advertise-client": dnsBase + ":6379",
		"raft-advertise":   dnsBase + ":7379",
		"bootstrap-expect": fmt.Sprint(*spec.Replicas),
		"discover-dns":     "_raft._tcp." + headlessName + ".$(POD_NAMESPACE).svc.$(CLUSTER_DOMAIN)",
	}
	for f, v := range want {
		if args[f] != v {
			t.Errorf("--%s=%q, want %q", f, args[f], v)
		}
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range ctr.Env {
		env[e.Name] = e
	}
	if e := env["POD_NAME"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("POD_NAME must come from metadata.name: %+v", e)
	}
	if e := env["POD_NAMESPACE"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("POD_NAMESPACE must come from metadata.namespace: %+v", e)
	}
	cm := m.configMaps[configName]
	if cm == nil {
		t.Fatalf("no ConfigMap %q", configName)
	}
	var fromConfigMap, fromSecret bool
	for _, ef := range ctr.EnvFrom {
		if ef.ConfigMapRef != nil && ef.ConfigMapRef.Name == configName {
			fromConfigMap = true
		}
		// Required: the cluster secret comes from it, and a node whose
		// Raft port listens on the pod network will not start without one.
		if ef.SecretRef != nil && (ef.SecretRef.Optional == nil || !*ef.SecretRef.Optional) {
			fromSecret = true
		}
	}
	if !fromConfigMap || !fromSecret {
		t.Errorf("envFrom %+v: want the ConfigMap and a required Secret", ctr.EnvFrom)
	}
	// Every $(VAR) in the args is defined, or the kubelet leaves it as is.
	for _, a := range ctr.Args {
		for _, ref := range regexp.MustCompile(`\$\(([A-Z_]+)\)`).FindAllStringSubmatch(a, -1) {
			if _, ok := env[ref[1]]; !ok && cm.Data[ref[1]] == "" {
				t.Errorf("arg %q uses $(%s), which neither env nor the ConfigMap defines", a, ref[1])
			}
		}
	}

	// Services: the headless one publishes not-ready pods (they must find
	// each other before any is ready) and names the Raft port for SRV.
	hl := m.services[headlessName]
	if hl == nil {
		t.Fatalf("no Service %q", headlessName)
	}
	if hl.Spec.ClusterIP != corev1.ClusterIPNone || !hl.Spec.PublishNotReadyAddresses {
		t.Errorf("headless Service: clusterIP %q publishNotReadyAddresses %v", hl.Spec.ClusterIP, hl.Spec.PublishNotReadyAddresses)
	}
	if !servicePort(hl, "raft", 7379) || !containerPort(ctr, "raft", 7379) {
		t.Errorf("the Raft port must be named \"raft\" (7379) on the headless Service and the container: the SRV name _raft._tcp depends on it")
	}
	cl := m.services[clientName]
	if cl == nil || cl.Spec.ClusterIP == corev1.ClusterIPNone || cl.Spec.PublishNotReadyAddresses || !servicePort(cl, "client", 6379) {
		t.Errorf("client Service %q must be a normal Service of ready pods on 6379: %+v", clientName, cl)
	}
	for _, s := range []*corev1.Service{hl, cl} {
		if s != nil && !selects(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}, podLabels) {
			t.Errorf("Service %s selector %v does not select the pods %v", s.Name, s.Spec.Selector, podLabels)
		}
	}
	if !containerPort(ctr, "client", 6379) {
		t.Error("container port \"client\" 6379 missing")
	}

	// Probes and hooks run the binary itself: readiness needs a leader,
	// liveness must not (losing quorum must not restart every pod).
	probe := func(name string, p *corev1.Probe) []string {
		if p == nil || p.Exec == nil {
			t.Errorf("%s probe must be an exec probe", name)
			return nil
		}
		if p.TimeoutSeconds < 3 {
			t.Errorf("%s probe timeout %ds: the health check itself allows 3s", name, p.TimeoutSeconds)
		}
		return p.Exec.Command
	}
	ready := probe("readiness", ctr.ReadinessProbe)
	live := probe("liveness", ctr.LivenessProbe)
	probe("startup", ctr.StartupProbe)
	if len(ready) < 2 || ready[0] != "/raftstream" || ready[1] != "health" || !slices.Contains(ready, "--require-leader") {
		t.Errorf("readiness %q, want /raftstream health --require-leader", ready)
	}
	if len(live) < 2 || live[0] != "/raftstream" || live[1] != "health" || slices.Contains(live, "--require-leader") {
		t.Errorf("liveness %q, want /raftstream health without --require-leader", live)
	}
	var preStop []string
	if ctr.Lifecycle != nil && ctr.Lifecycle.PreStop != nil && ctr.Lifecycle.PreStop.Exec != nil {
		preStop = ctr.Lifecycle.PreStop.Exec.Command
	}
	if len(preStop) < 2 || preStop[0] != "/raftstream" || preStop[1] != "transfer-leadership" {
		t.Errorf("preStop %q, want /raftstream transfer-leadership", preStop)
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g < 30 {
		t.Errorf("terminationGracePeriodSeconds %v: leave time for preStop and the drain", g)
	}

	// Resources, security, storage.
	if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() {
		t.Errorf("resource requests %v: want cpu and memory", ctr.Resources.Requests)
	}
	if !slices.ContainsFunc(ctr.Env, func(e corev1.EnvVar) bool {
		return e.Name == "GOMEMLIMIT" && e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil &&
			e.ValueFrom.ResourceFieldRef.Resource == "limits.memory"
	}) || ctr.Resources.Limits.Memory().IsZero() {
		t.Errorf("env %+v, limits %v: want a memory limit and GOMEMLIMIT from it", ctr.Env, ctr.Resources.Limits)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != imageUID ||
		psc.FSGroup == nil || *psc.FSGroup != imageUID {
		t.Errorf("pod securityContext %+v: want runAsNonRoot, runAsUser and fsGroup %d", psc, imageUID)
	}
	csc := ctr.SecurityContext
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
		csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Errorf("container securityContext %+v: want no privilege escalation, read-only root", csc)
	}
	if len(spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("%d volumeClaimTemplates, want 1", len(spec.VolumeClaimTemplates))
	}
	vct := spec.VolumeClaimTemplates[0]
	dataDir := envValue(ctr, cm, "RAFTSTREAM_DATA_DIR")
	if !slices.ContainsFunc(ctr.VolumeMounts, func(v corev1.VolumeMount) bool { return v.Name == vct.Name && v.MountPath == dataDir }) {
		t.Errorf("volume %q is not mounted at the data dir %q: %+v", vct.Name, dataDir, ctr.VolumeMounts)
	}
	if vct.Spec.Resources.Requests.Storage().IsZero() {
		t.Error("volumeClaimTemplate requests no storage")
	}

	// The PDB keeps a quorum through voluntary disruptions.
	pdb := m.pdbs[stsName]
	if pdb == nil || pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil {
		t.Fatalf("PodDisruptionBudget %q must set maxUnavailable 1: %+v", stsName, pdb)
	}
	if !selects(pdb.Spec.Selector, podLabels) {
		t.Errorf("PDB selector %v does not select the pods %v", pdb.Spec.Selector, podLabels)
	}
	if q := int(*spec.Replicas)/2 + 1; int(*spec.Replicas)-pdb.Spec.MaxUnavailable.IntValue() < q {
		t.Errorf("PDB allows the cluster below its quorum of %d", q)
	}
}

// TestManifestFlagsExist checks every flag and RAFTSTREAM_* variable the
// manifests and compose files use against the binary's own --help.
func TestManifestFlagsExist(t *testing.T) {
	bin := buildBinary(t)
	help := func(args ...string) string {
		out, err := exec.Command(bin, append(args, "--help")...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s --help: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	mainHelp := help()
	known := func(h, flag string) bool {
		return strings.Contains(h, "  -"+flag+" ") || strings.Contains(h, "  -"+flag+"\n")
	}

	m := loadManifests(t)
	_, ctr := m.statefulSet(t)
	for f := range flagMap(t, ctr.Args) {
		if !known(mainHelp, f) {
			t.Errorf("StatefulSet arg --%s is not a raftstream flag", f)
		}
	}
	var vars []string
	for k := range m.configMaps[configName].Data {
		vars = append(vars, k)
	}
	for _, e := range ctr.Env {
		vars = append(vars, e.Name)
	}
	for _, f := range []string{"compose/docker-compose.yml", "compose/k8s-sim.yml"} {
		for _, s := range loadCompose(t, f).Services {
			for k := range s.Environment {
				vars = append(vars, k)
			}
		}
	}
	for _, v := range vars {
		name, ok := strings.CutPrefix(v, "RAFTSTREAM_")
		if !ok {
			continue
		}
		if f := strings.ReplaceAll(strings.ToLower(name), "_", "-"); !known(mainHelp, f) {
			t.Errorf("%s sets no raftstream flag (no --%s)", v, f)
		}
	}
	for _, cmd := range [][]string{ctr.ReadinessProbe.Exec.Command, ctr.LivenessProbe.Exec.Command, ctr.StartupProbe.Exec.Command, ctr.Lifecycle.PreStop.Exec.Command} {
		sub := help(cmd[1])
		for _, a := range cmd[2:] {
			if f, ok := strings.CutPrefix(a, "--"); ok && !known(sub, f) {
				t.Errorf("%q: %s has no flag --%s", cmd, cmd[1], f)
			}
		}
	}
}

// buildBinary builds cmd/raftstream for the host.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "raftstream")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/raftstream/raftstream/cmd/raftstream")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out.String())
	}
	return bin
}

// flagMap reads --name=value arguments.
func flagMap(t *testing.T, args []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, a := range args {
		name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok || !strings.HasPrefix(a, "--") {
			t.Fatalf("argument %q: want --flag=value", a)
		}
		out[name] = val
	}
	return out
}

func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	if sel == nil || len(sel.MatchLabels) == 0 || len(sel.MatchExpressions) > 0 {
		return false
	}
	for k, v := range sel.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func servicePort(s *corev1.Service, name string, port int32) bool {
	return slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool {
		return p.Name == name && p.Port == port && p.TargetPort.String() == name
	})
}

func containerPort(c *corev1.Container, name string, port int32) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == name && p.ContainerPort == port })
}

// envValue is a variable's literal value in the container's env, else in
// the ConfigMap.
func envValue(c *corev1.Container, cm *corev1.ConfigMap, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return cm.Data[name]
}

// composeFile is the part of a compose file the tests read.
type composeFile struct {
	Services map[string]composeService `json:"services"`
}

type composeService struct {
	Image       string            `json:"image"`
	Hostname    string            `json:"hostname"`
	Command     []string          `json:"command"`
	Environment map[string]string `json:"environment"`
	Ports       []string          `json:"ports"`
	Volumes     []string          `json:"volumes"`
	Profiles    []string          `json:"profiles"`
	ReadOnly    bool              `json:"read_only"`
	Healthcheck struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
	Networks map[string]struct {
		Aliases []string `json:"aliases"`
	} `json:"networks"`
}

func loadCompose(t *testing.T, path string) composeFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	// Not strict: compose files have keys this test does not model.
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// expandK8s expands $(VAR) references as the kubelet does: defined
// variables are replaced, others left as they are.
func expandK8s(s string, vars map[string]string) string {
	return regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`).ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := vars[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

// TestK8sSimMatchesStatefulSet checks that compose/k8s-sim.yml runs what
// the StatefulSet would: per pod, the same arguments and environment, the
// pod's hostname, its DNS name and the discovery name as aliases, and the
// readiness probe as health check.
func TestK8sSimMatchesStatefulSet(t *testing.T) {
	const secretKey = "RAFTSTREAM_CLUSTER_SECRET"
	m := loadManifests(t)
	sts, ctr := m.statefulSet(t)
	cm := m.configMaps[configName]
	sim := loadCompose(t, "compose/k8s-sim.yml")
	// The first replicas pods start with `up`; the one more is the pod a
	// scale-up adds, started only with --profile scale.
	replicas := int(*sts.Spec.Replicas)
	if len(sim.Services) != replicas+1 {
		t.Fatalf("k8s-sim has %d services, want the StatefulSet's %d replicas and one to scale up to", len(sim.Services), replicas)
	}
	const namespace = "default"
	for i := 0; i <= replicas; i++ {
		pod := fmt.Sprintf("%s-%d", sts.Name, i)
		svc, ok := sim.Services[pod]
		if !ok {
			t.Errorf("k8s-sim has no service %q", pod)
			continue
		}
		if wantScale := i == replicas; wantScale != slices.Equal(svc.Profiles, []string{"scale"}) {
			t.Errorf("%s profiles %q: only pod %d may (and must) be in profile \"scale\"", pod, svc.Profiles, replicas)
		}
		vars := map[string]string{"POD_NAME": pod, "POD_NAMESPACE": namespace}
		for k, v := range cm.Data {
			vars[k] = v
		}
		wantEnv := map[string]string{}
		for k, v := range cm.Data {
			wantEnv[k] = v
		}
		for _, e := range ctr.Env {
			switch {
			case e.ValueFrom == nil:
				wantEnv[e.Name] = expandK8s(e.Value, vars)
			case e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory":
				wantEnv[e.Name] = fmt.Sprint(ctr.Resources.Limits.Memory().Value())
			default:
				wantEnv[e.Name] = vars[e.Name]
			}
		}
		// The required Secret's cluster secret, any value.
		if svc.Environment[secretKey] == "" {
			t.Errorf("%s has no %s (the StatefulSet's Secret provides one)", pod, secretKey)
		}
		wantEnv[secretKey] = svc.Environment[secretKey]
		var wantArgs []string
		for _, a := range ctr.Args {
			wantArgs = append(wantArgs, expandK8s(a, vars))
		}
		if !slices.Equal(svc.Command, wantArgs) {
			t.Errorf("%s command\n%q\nwant the StatefulSet's args\n%q", pod, svc.Command, wantArgs)
		}
		if fmt.Sprint(svc.Environment) != fmt.Sprint(wantEnv) {
			t.Errorf("%s environment\n%v\nwant\n%v", pod, svc.Environment, wantEnv)
		}
		if svc.Hostname != pod {
			t.Errorf("%s hostname %q", pod, svc.Hostname)
		}
		args := flagMap(t, wantArgs)
		aliases := svc.Networks["default"].Aliases
		podDNS, _, _ := strings.Cut(args["raft-advertise"], ":")
		for _, a := range []string{podDNS, args["discover-dns"]} {
			if !slices.Contains(aliases, a) {
				t.Errorf("%s network aliases %q lack %q", pod, aliases, a)
			}
		}
		wantTest := append([]string{"CMD"}, ctr.ReadinessProbe.Exec.Command...)
		if !slices.Equal(svc.Healthcheck.Test, wantTest) {
			t.Errorf("%s healthcheck %q, want the readiness probe %q", pod, svc.Healthcheck.Test, wantTest)
		}
		if !svc.ReadOnly {
			t.Errorf("%s: read_only must match readOnlyRootFilesystem", pod)
		}
	}
}

// TestComposeFile checks docker-compose.yml's invariants: each node is
// founded with the same peers, advertises its own service name, has its
// own named volume and a health check, and publishes an overridable port.
func TestComposeFile(t *testing.T) {
	f := loadCompose(t, "compose/docker-compose.yml")
	var peers string
	for i, name := range []string{"node1", "node2", "node3", "node4"} {
		s, ok := f.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		e := s.Environment
		if e["RAFTSTREAM_NODE_ID"] != name || e["RAFTSTREAM_RAFT_ADVERTISE"] != name+":7379" {
			t.Errorf("%s: node id %q, raft advertise %q", name, e["RAFTSTREAM_NODE_ID"], e["RAFTSTREAM_RAFT_ADVERTISE"])
		}
		if name == "node4" {
			if e["RAFTSTREAM_PEERS"] != "" || e["RAFTSTREAM_JOIN"] == "" || !slices.Equal(s.Profiles, []string{"scale"}) {
				t.Errorf("node4 must join (not found) and only run with --profile scale: %v", e)
			}
			// Seeds are Raft addresses (client addresses are deprecated).
			if e["RAFTSTREAM_JOIN"] != "node1:7379,node2:7379,node3:7379" {
				t.Errorf("node4 joins through %q, want the members' Raft addresses", e["RAFTSTREAM_JOIN"])
			}
		} else {
			if peers == "" {
				peers = e["RAFTSTREAM_PEERS"]
			}
			if e["RAFTSTREAM_PEERS"] != peers || !strings.Contains(peers, name+"="+name+":7379") {
				t.Errorf("%s peers %q", name, e["RAFTSTREAM_PEERS"])
			}
		}
		wantPort := fmt.Sprintf("${RAFTSTREAM_PORT%d:-%d}:6379", i+1, 6379+i)
		if len(s.Ports) != 1 || !strings.HasSuffix(s.Ports[0], wantPort) {
			t.Errorf("%s ports %q, want ...%s", name, s.Ports, wantPort)
		}
		if len(s.Volumes) != 1 || !strings.HasSuffix(s.Volumes[0], ":/data") {
			t.Errorf("%s volumes %q", name, s.Volumes)
		}
		if len(s.Healthcheck.Test) < 3 || s.Healthcheck.Test[1] != "/raftstream" || s.Healthcheck.Test[2] != "health" {
			t.Errorf("%s healthcheck %q", name, s.Healthcheck.Test)
		}
	}
}
