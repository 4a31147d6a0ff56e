// helm-render renders a Helm chart the way `helm template` does, for checking
// the chart where no helm binary can be installed (Debian has none). It is Go
// text/template with sprig, Helm's extra functions (include, tpl, required,
// toYaml, fromYaml, toJson, fromJson, lookup) and objects (.Values,
// .Release, .Chart, .Capabilities, .Template, .Files), always in strict mode
// (missingkey=error, as `helm lint --strict`): a template that reads a value
// missing from values.yaml fails instead of printing nothing.
//
// Usage:
//
//	helm-render [-f values.yaml]... [--set a.b=v]... [--set-json a.b=JSON]...
//	            [--namespace ns] [--release name] [--kube-version v1.30.0]
//	            [--api-versions group/version,...] [--notes] [--print-values] CHART_DIR
//
// Output: every rendered manifest as "---\n# Source: <chart>/templates/<file>\n"
// plus the document, files in path order (helm orders by kind; the set of
// objects is the same). --notes prints NOTES.txt instead; --print-values the
// coalesced values as JSON (what the values schema is checked against).
//
// Known differences from Helm, none used by this chart: .Files.AsConfig,
// AsSecrets and Lines, toToml, fromJsonArray/fromYamlArray, subcharts, and
// --set list syntax ({a,b}, a[0]); --set-json covers lists.
//
// Build (Debian: golang-go, golang-github-masterminds-sprig-dev,
// golang-k8s-sigs-yaml-dev), in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o helm-render ./helm/render
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var valueFiles, sets, setJSONs stringList
	namespace := flag.String("namespace", "default", "release namespace")
	release := flag.String("release", "release-name", "release name")
	kubeVersion := flag.String("kube-version", "v1.30.0", "Kubernetes version for .Capabilities and the chart's kubeVersion")
	apiVersions := flag.String("api-versions", "", "extra API versions (comma-separated) for .Capabilities.APIVersions.Has")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	printValues := flag.Bool("print-values", false, "print the coalesced values as JSON instead of the manifests")
	flag.Var(&valueFiles, "f", "values file, merged over the chart's values.yaml in order (repeatable)")
	flag.Var(&sets, "set", "key.path=value: true/false, integers and null are typed, the rest are strings (repeatable)")
	flag.Var(&setJSONs, "set-json", "key.path=JSON (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: helm-render [flags] CHART_DIR")
		os.Exit(2)
	}
	err := run(flag.Arg(0), options{
		valueFiles: valueFiles, sets: sets, setJSONs: setJSONs,
		namespace: *namespace, release: *release, kubeVersion: *kubeVersion,
		apiVersions: *apiVersions, notes: *notes, printValues: *printValues,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	valueFiles, sets, setJSONs []string
	namespace, release         string
	kubeVersion, apiVersions   string
	notes, printValues         bool
}

// Chart is the part of Chart.yaml templates read as .Chart (Helm's field names).
type Chart struct {
	APIVersion  string            `json:"apiVersion"`
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	AppVersion  string            `json:"appVersion"`
	KubeVersion string            `json:"kubeVersion"`
	Description string            `json:"description"`
	Type        string            `json:"type"`
	Home        string            `json:"home"`
	Keywords    []string          `json:"keywords"`
	Sources     []string          `json:"sources"`
	Annotations map[string]string `json:"annotations"`
}

type Release struct {
	Name, Namespace, Service string
	Revision                 int
	IsInstall, IsUpgrade     bool
}

type KubeVersion struct{ Version, Major, Minor, GitVersion string }

func (k KubeVersion) String() string { return k.Version }

// APIVersions answers .Capabilities.APIVersions.Has for built-in and --api-versions entries.
type APIVersions []string

func (a APIVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions APIVersions
}

// The API versions every supported cluster serves (kubeVersion >= 1.27).
var builtinAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v1", "autoscaling/v2",
	"networking.k8s.io/v1", "rbac.authorization.k8s.io/v1", "node.k8s.io/v1",
}

// Files is .Files: the chart's files outside templates/, by chart-relative path.
type Files map[string][]byte

func (f Files) Get(name string) string { return string(f[name]) }

func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

type Template struct{ Name, BasePath string }

func run(chartDir string, o options) error {
	chart, err := readChart(chartDir)
	if err != nil {
		return err
	}
	caps, err := capabilities(o.kubeVersion, o.apiVersions)
	if err != nil {
		return err
	}
	if chart.KubeVersion != "" {
		c, err := semver.NewConstraint(chart.KubeVersion)
		if err != nil {
			return fmt.Errorf("Chart.yaml kubeVersion %q: %v", chart.KubeVersion, err)
		}
		if !c.Check(semver.MustParse(caps.KubeVersion.Version)) {
			return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", chart.KubeVersion, caps.KubeVersion.Version)
		}
	}
	values, err := coalesceValues(chartDir, o)
	if err != nil {
		return err
	}
	if o.printValues {
		out, err := json.MarshalIndent(values, "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(out))
		return nil
	}
	files, templates, err := readFiles(chartDir)
	if err != nil {
		return err
	}
	root := template.New("root").Option("missingkey=error")
	root.Funcs(funcMap(root))
	for _, name := range templates {
		data, err := os.ReadFile(filepath.Join(chartDir, name))
		if err != nil {
			return err
		}
		if _, err := root.New(path.Join(chart.Name, name)).Parse(string(data)); err != nil {
			return err
		}
	}
	top := map[string]interface{}{
		"Values":       values,
		"Chart":        chart,
		"Release":      Release{Name: o.release, Namespace: o.namespace, Service: "Helm", Revision: 1, IsInstall: true},
		"Capabilities": caps,
		"Files":        files,
	}
	var out strings.Builder
	for _, name := range templates {
		base := path.Base(name)
		isNotes := base == "NOTES.txt"
		if strings.HasPrefix(base, "_") || isNotes != o.notes {
			continue
		}
		full := path.Join(chart.Name, name)
		top["Template"] = Template{Name: full, BasePath: path.Join(chart.Name, "templates")}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, full, top); err != nil {
			return err
		}
		if isNotes {
			out.WriteString(buf.String())
			continue
		}
		for _, doc := range splitDocuments(buf.String()) {
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", full, doc)
		}
	}
	fmt.Print(out.String())
	return nil
}

func readChart(dir string) (*Chart, error) {
	data, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	var c Chart
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %v", err)
	}
	return &c, nil
}

func capabilities(version, extra string) (Capabilities, error) {
	v, err := semver.NewVersion(version)
	if err != nil {
		return Capabilities{}, fmt.Errorf("--kube-version %q: %v", version, err)
	}
	apis := append(APIVersions{}, builtinAPIVersions...)
	for _, a := range strings.Split(extra, ",") {
		if a = strings.TrimSpace(a); a != "" {
			apis = append(apis, a)
		}
	}
	return Capabilities{
		KubeVersion: KubeVersion{
			Version: "v" + v.String(), GitVersion: "v" + v.String(),
			Major: strconv.FormatUint(v.Major(), 10), Minor: strconv.FormatUint(v.Minor(), 10),
		},
		APIVersions: apis,
	}, nil
}

// readFiles lists the templates (templates/**, path order) and loads every other
// file of the chart but Chart.yaml, values.yaml and values.schema.json as .Files.
func readFiles(dir string) (Files, []string, error) {
	files := Files{}
	var templates []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasPrefix(rel, "templates/"):
			templates = append(templates, rel)
		case rel == "Chart.yaml" || rel == "values.yaml" || rel == "values.schema.json":
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = data
		}
		return nil
	})
	sort.Strings(templates)
	return files, templates, err
}

// coalesceValues is values.yaml, then each -f file, then --set/--set-json, each
// merged over the last: maps merge key by key, anything else replaces, and a
// null deletes the key (as Helm does).
func coalesceValues(chartDir string, o options) (map[string]interface{}, error) {
	values := map[string]interface{}{}
	for _, f := range append([]string{filepath.Join(chartDir, "values.yaml")}, o.valueFiles...) {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var layer map[string]interface{}
		if err := yaml.Unmarshal(data, &layer); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		merge(values, layer)
	}
	for _, s := range o.sets {
		key, raw, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: want key=value", s)
		}
		merge(values, nested(key, typed(raw)))
	}
	for _, s := range o.setJSONs {
		key, raw, ok := strings.Cut(s, "=")
		var v interface{}
		if !ok || json.Unmarshal([]byte(raw), &v) != nil {
			return nil, fmt.Errorf("--set-json %q: want key=JSON", s)
		}
		merge(values, nested(key, v))
	}
	return values, nil
}

func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, srcIsMap := v.(map[string]interface{})
		dm, dstIsMap := dst[k].(map[string]interface{})
		if srcIsMap && dstIsMap {
			merge(dm, sm)
		} else {
			dst[k] = v
		}
	}
}

func nested(key string, v interface{}) map[string]interface{} {
	parts := strings.Split(key, ".")
	m := map[string]interface{}{parts[len(parts)-1]: v}
	for i := len(parts) - 2; i >= 0; i-- {
		m = map[string]interface{}{parts[i]: m}
	}
	return m
}

// typed gives --set values Helm's types: int64, bool, nil, or string.
func typed(raw string) interface{} {
	switch raw {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return n
	}
	return raw
}

// splitDocuments splits a rendered file at "---" lines and drops empty documents.
func splitDocuments(s string) []string {
	var docs []string
	for _, d := range strings.Split("\n"+s, "\n---") {
		if d = strings.TrimSpace(d); d != "" && !onlyComments(d) {
			docs = append(docs, d)
		}
	}
	return docs
}

func onlyComments(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// funcMap is sprig's (less env and expandenv, as in Helm) plus Helm's own functions.
func funcMap(root *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	depth := map[string]int{}
	f["include"] = func(name string, data interface{}) (string, error) {
		if depth[name] > 100 {
			return "", fmt.Errorf("include %q: recursion too deep", name)
		}
		depth[name]++
		defer func() { depth[name]-- }()
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if s, ok := v.(string); v == nil || (ok && s == "") {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	f["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	// Offline there is no cluster to look anything up in; helm template does the same.
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	return f
}
