package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/lab-edu/lab/kernel/image"
)

// Options say what to build and where.
type Options struct {
	Store      *image.Store
	StateDir   string            // lab's state directory (LAB_ROOT): RUN containers live under it
	ContextDir string            // the build context: COPY and ADD sources are relative to it
	Dockerfile string            // default: ContextDir/Dockerfile
	Tag        string            // the name of the result, "app" or "app:v1"; empty: untagged
	BuildArgs  map[string]string // --build-arg NAME=VALUE
	NoCache    bool              // run every step even when the cache has it
	Target     string            // build up to this stage; default: the last one

	Progress io.Writer // "Step 2/5 : RUN ...", " ---> CACHED" lines
	Stdout   io.Writer // what RUN commands print
	Stderr   io.Writer
}

// Result is what a build made.
type Result struct {
	ID        digest.Digest // the image ID (config digest)
	Name      string        // the normalized tag, if any
	NewLayers int           // distinct layers this build made (0 when everything came from the cache)
	Cached    int           // steps taken from the cache
	Steps     int
}

// Error is a build failure. ExitCode is the failing RUN command's status
// (0 for other failures): the CLI reports it, docker-style.
type Error struct {
	Line     int
	ExitCode int
	Err      error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("dockerfile line %d: %v", e.Line, e.Err)
	}
	return e.Err.Error()
}
func (e *Error) Unwrap() error { return e.Err }

// layer is one layer of a build state: either already in the store, or
// made by this build (then dir is this build's upper dir and tar the
// archive to add at the end).
type layer struct {
	diffID  digest.Digest
	size    int64
	dir     string
	tar     string // "" when the store already has it
	cacheOf string // the cache key that made it
}

// state is the image a stage has built so far.
type state struct {
	layers   []layer // bottom-most first
	cfg      ocispec.Image
	key      digest.Digest     // cache key chain: everything that led here
	args     map[string]string // ARGs declared in this stage
	cmdInStg bool              // CMD was set in this stage (ENTRYPOINT then keeps it)
}

// lowerDirs returns the overlay lowerdir list, top-most first.
//
// Two steps can make byte-identical layers (the same file written twice
// within one second), and overlayfs refuses a directory listed twice. Only
// the top-most copy is kept, which changes nothing: a layer identical to
// one above it is entirely hidden by it (same files, same whiteouts).
func (s *state) lowerDirs() []string {
	dirs := make([]string, 0, len(s.layers))
	for i := len(s.layers) - 1; i >= 0; i-- {
		if !slices.Contains(dirs, s.layers[i].dir) {
			dirs = append(dirs, s.layers[i].dir)
		}
	}
	return dirs
}

// vars resolves $NAME in ENV, COPY...: the stage's ENV, then its ARGs.
func (s *state) vars(name string) (string, bool) {
	for _, kv := range slices.Backward(s.cfg.Config.Env) {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	v, ok := s.args[name]
	return v, ok
}

// runEnv is the environment of a RUN command: the image's ENV plus the
// build ARGs it does not override (ARGs are not saved in the image).
func (s *state) runEnv() []string {
	env := slices.Clone(s.cfg.Config.Env)
	names := make([]string, 0, len(s.args))
	for k := range s.args {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if _, set := s.vars(k); set && !hasKey(s.cfg.Config.Env, k) {
			env = append(env, k+"="+s.args[k])
		}
	}
	return env
}

func hasKey(env []string, k string) bool {
	return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
}

func setEnv(env []string, k, v string) []string {
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
	return append(env, k+"="+v)
}

// builder runs one build.
type builder struct {
	opts    Options
	df      *Dockerfile
	ws      *workspace
	cache   *cache
	ignore  *ignorer // the context's .dockerignore
	stages  []*state // final state of each stage built so far
	global  map[string]string
	step    int
	total   int
	cached  int
	entries []cacheEntry // cache entries to write when the build succeeds
}

// Build builds the Dockerfile and adds the image to the store, like
// `docker build -t TAG -f Dockerfile CONTEXT`.
//
// Every instruction that changes files (RUN, COPY, ADD, and WORKDIR when
// it creates the directory) runs on an overlay of the layers so far with
// a fresh upper dir, and that upper dir becomes the step's layer: its tar
// (whiteouts turned into ".wh." entries) is the layer blob, its sha256 the
// DiffID. Each step is looked up first in a cache keyed by the chain of
// every earlier step, the instruction and its inputs (the content hash of
// COPY sources), so an unchanged rebuild runs nothing and adds nothing.
//
// Everything is added to the store in one change at the very end: a build
// that fails (a RUN that exits non-zero, a missing COPY source) leaves the
// store exactly as it was.
func Build(ctx context.Context, opts Options) (Result, error) {
	if opts.Store == nil {
		return Result{}, errors.New("build: no image store")
	}
	for _, w := range []*io.Writer{&opts.Progress, &opts.Stdout, &opts.Stderr} {
		if *w == nil {
			*w = io.Discard
		}
	}
	df, err := readDockerfile(&opts)
	if err != nil {
		return Result{}, err
	}
	name := ""
	if opts.Tag != "" {
		if name, err = image.NormalizeName(opts.Tag); err != nil {
			return Result{}, err
		}
	}
	last := len(df.Stages) - 1
	if opts.Target != "" {
		if last = stageIndex(df, opts.Target); last < 0 {
			return Result{}, fmt.Errorf("build: target stage %q is not in the Dockerfile", opts.Target)
		}
	}
	ig, err := readDockerignore(opts.ContextDir)
	if err != nil {
		return Result{}, err
	}
	ws, err := newWorkspace(opts.Store.Root())
	if err != nil {
		return Result{}, err
	}
	defer ws.remove()
	b := &builder{opts: opts, df: df, ws: ws, cache: openCache(opts.Store), ignore: ig, global: map[string]string{}}
	for _, st := range df.Stages[:last+1] {
		b.total += 1 + len(st.Instructions)
	}
	if err := b.globalArgs(); err != nil {
		return Result{}, err
	}
	for _, st := range df.Stages[:last+1] {
		s, err := b.buildStage(ctx, st)
		if err != nil {
			return Result{}, err
		}
		b.stages = append(b.stages, s)
	}
	id, err := b.commit(b.stages[last], name)
	if err != nil {
		return Result{}, err
	}
	return Result{ID: id, Name: name, NewLayers: len(ws.order), Cached: b.cached, Steps: b.total}, nil
}

// readDockerfile checks the build context (made absolute in opts) and
// parses the Dockerfile (by default the context's).
func readDockerfile(opts *Options) (*Dockerfile, error) {
	dir, err := filepath.Abs(opts.ContextDir)
	if err != nil {
		return nil, err
	}
	opts.ContextDir = dir
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("build context %s is not a directory", dir)
	}
	if opts.Dockerfile == "" {
		opts.Dockerfile = filepath.Join(dir, "Dockerfile")
	}
	f, err := os.Open(opts.Dockerfile)
	if err != nil {
		return nil, fmt.Errorf("dockerfile: %w (give one with -f FILE)", err)
	}
	defer f.Close()
	return Parse(f)
}

// stageIndex finds a stage by name or number, -1 if there is none.
func stageIndex(df *Dockerfile, ref string) int {
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < len(df.Stages) {
		return n
	}
	for i, st := range df.Stages {
		if st.Name != "" && st.Name == strings.ToLower(ref) {
			return i
		}
	}
	return -1
}

// globalArgs evaluates the ARGs before the first FROM.
func (b *builder) globalArgs() error {
	for _, in := range b.df.Args {
		kvs, err := keyValues("ARG", in.Args[0], func(n string) (string, bool) { v, ok := b.global[n]; return v, ok })
		if err != nil {
			return &Error{Line: in.Line, Err: err}
		}
		for _, kv := range kvs {
			v := kv[1]
			if given, ok := b.opts.BuildArgs[kv[0]]; ok {
				v = given
			}
			b.global[kv[0]] = v
		}
	}
	return nil
}

func (b *builder) progress(format string, args ...any) {
	fmt.Fprintf(b.opts.Progress, format+"\n", args...)
}

// buildStage resolves the stage's base and runs its instructions.
func (b *builder) buildStage(ctx context.Context, st Stage) (*state, error) {
	b.step++
	b.progress("Step %d/%d : FROM %s", b.step, b.total, strings.TrimSpace(st.Base+" "+asName(st)))
	s, err := b.base(st)
	if err != nil {
		return nil, &Error{Line: st.Line, Err: err}
	}
	b.progress(" ---> %s", shortKey(s.key))
	for _, in := range st.Instructions {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.step++
		b.progress("Step %d/%d : %s", b.step, b.total, in.Original)
		if err := b.apply(ctx, s, in); err != nil {
			var be *Error
			if errors.As(err, &be) {
				if be.Line == 0 {
					be.Line = in.Line
				}
				return nil, be
			}
			return nil, &Error{Line: in.Line, Err: err}
		}
	}
	return s, nil
}

func asName(st Stage) string {
	if st.Name == "" {
		return ""
	}
	return "AS " + st.Name
}

func shortKey(d digest.Digest) string { return d.Encoded()[:12] }

// base is the state a stage starts from: nothing (scratch), an earlier
// stage, or an image of the store.
func (b *builder) base(st Stage) (*state, error) {
	ref, err := expandWord(st.Base, func(n string) (string, bool) { v, ok := b.global[n]; return v, ok })
	if err != nil {
		return nil, fmt.Errorf("FROM %s: %w", st.Base, err)
	}
	s := &state{args: map[string]string{}}
	s.cfg.Platform = ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"}
	s.cfg.RootFS.Type = "layers"
	switch {
	case strings.EqualFold(ref, "scratch"):
		s.key = digest.FromString("scratch")
		return s, nil
	case stageIndex(b.df, ref) >= 0 && stageIndex(b.df, ref) < len(b.stages) && !isNumber(ref):
		prev := b.stages[stageIndex(b.df, ref)]
		c := *prev
		c.layers = slices.Clone(prev.layers)
		c.cfg.Config.Env = slices.Clone(prev.cfg.Config.Env)
		c.cfg.History = slices.Clone(prev.cfg.History)
		c.cfg.RootFS.DiffIDs = slices.Clone(prev.cfg.RootFS.DiffIDs)
		c.cfg.Config.Labels = maps.Clone(prev.cfg.Config.Labels)
		c.cfg.Config.ExposedPorts = maps.Clone(prev.cfg.Config.ExposedPorts)
		c.args, c.cmdInStg = map[string]string{}, false
		return &c, nil
	}
	img, err := b.opts.Store.Get(ref)
	if err != nil {
		return nil, fmt.Errorf("FROM %s: %w", ref, err)
	}
	s.cfg = img.Config
	s.cfg.Config.Env = slices.Clone(img.Config.Config.Env)
	s.cfg.History = slices.Clone(img.Config.History)
	s.cfg.RootFS.DiffIDs = slices.Clone(img.Config.RootFS.DiffIDs)
	for _, l := range img.Layers {
		s.layers = append(s.layers, layer{diffID: l.DiffID, size: l.Size, dir: l.Dir})
	}
	s.key = img.ID
	return s, nil
}

func isNumber(s string) bool { _, err := strconv.Atoi(s); return err == nil }

// apply runs one instruction on s.
func (b *builder) apply(ctx context.Context, s *state, in Instruction) error {
	switch in.Cmd {
	case "ARG":
		return b.arg(s, in)
	case "RUN":
		return b.run(ctx, s, in)
	case "COPY", "ADD":
		return b.copy(ctx, s, in)
	case "WORKDIR":
		return b.workdir(ctx, s, in)
	}
	// The rest only change the image config.
	if in.JSON && in.Cmd != "CMD" && in.Cmd != "ENTRYPOINT" {
		return fmt.Errorf("%s does not take a JSON array", in.Cmd)
	}
	c := &s.cfg.Config
	switch in.Cmd {
	case "ENV":
		kvs, err := keyValues("ENV", in.Args[0], s.vars)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			c.Env = setEnv(c.Env, kv[0], kv[1])
		}
	case "LABEL":
		kvs, err := keyValues("LABEL", in.Args[0], s.vars)
		if err != nil {
			return err
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		for _, kv := range kvs {
			c.Labels[kv[0]] = kv[1]
		}
	case "CMD":
		c.Cmd, s.cmdInStg = commandArgs(in), true
	case "ENTRYPOINT":
		c.Entrypoint = commandArgs(in)
		if !s.cmdInStg {
			c.Cmd = nil // docker: a new ENTRYPOINT drops the CMD inherited from the base
		}
	case "USER":
		u, err := expandWord(in.Args[0], s.vars)
		if err != nil || u == "" {
			return fmt.Errorf("USER needs a user name or UID[:GID]")
		}
		c.User = u
	case "EXPOSE":
		ports, err := splitWords(in.Args[0], s.vars)
		if err != nil {
			return err
		}
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range ports {
			key, err := exposedPort(p)
			if err != nil {
				return err
			}
			c.ExposedPorts[key] = struct{}{}
		}
	case "MAINTAINER":
		s.cfg.Author = in.Args[0]
	case "STOPSIGNAL":
		sig, err := expandWord(in.Args[0], s.vars)
		if err != nil {
			return err
		}
		c.StopSignal = sig
	default:
		return fmt.Errorf("instruction %s is not implemented", in.Cmd)
	}
	return b.configStep(s, in, "")
}

// configStep records a step that changed only the config: no layer, but a
// history entry and a new cache key (so later RUN steps see the change).
func (b *builder) configStep(s *state, in Instruction, inputs string) error {
	key := stepKey(s.key, in, inputs+"\x00"+configDigest(s))
	// The cache remembers when the step was first made: reusing that time
	// makes a rebuild's config byte-identical, hence the same image ID.
	created, cached := time.Now().UTC().Truncate(time.Second), ""
	if e, ok := b.cache.get(key); ok && !b.opts.NoCache {
		created, cached = e.Created, "CACHED "
		b.cached++
	} else {
		b.entries = append(b.entries, cacheEntry{Key: key, Created: created})
	}
	s.key = key
	s.cfg.History = append(s.cfg.History, ocispec.History{Created: &created, CreatedBy: createdBy(in), EmptyLayer: true})
	b.progress(" ---> %s%s", cached, shortKey(key))
	return nil
}

// commandArgs is CMD and ENTRYPOINT: the exec form as written, the shell
// form run by /bin/sh -c.
func commandArgs(in Instruction) []string {
	if in.JSON {
		return in.Args
	}
	return []string{"/bin/sh", "-c", in.Args[0]}
}

// createdBy is the history line of a step, as `lab image history` shows it.
func createdBy(in Instruction) string {
	if in.Cmd == "RUN" && !in.JSON {
		return "RUN /bin/sh -c " + in.Args[0]
	}
	return strings.Join(strings.Fields(in.Original), " ")
}

// exposedPort turns "80", "80/tcp" or "53/udp" into the config key "80/tcp".
func exposedPort(p string) (string, error) {
	num, proto, ok := strings.Cut(p, "/")
	if !ok {
		proto = "tcp"
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 || (proto != "tcp" && proto != "udp" && proto != "sctp") {
		return "", fmt.Errorf("EXPOSE %s: want PORT or PORT/tcp|udp with 1 <= PORT <= 65535", p)
	}
	return fmt.Sprintf("%d/%s", n, proto), nil
}

func (b *builder) arg(s *state, in Instruction) error {
	kvs, err := keyValues("ARG", in.Args[0], s.vars)
	if err != nil {
		return err
	}
	var inputs []string
	for _, kv := range kvs {
		v, hasDefault := kv[1], strings.Contains(in.Args[0], "=")
		if g, ok := b.global[kv[0]]; ok && !hasDefault {
			v = g // ARG NAME inside a stage brings in the global value
		}
		if given, ok := b.opts.BuildArgs[kv[0]]; ok {
			v = given
		}
		s.args[kv[0]] = v
		inputs = append(inputs, kv[0]+"="+v)
	}
	return b.configStep(s, in, strings.Join(inputs, "\x00"))
}

// workdir sets the working directory and creates it when the layers do
// not have it yet (docker does too), which makes a layer only then.
func (b *builder) workdir(ctx context.Context, s *state, in Instruction) error {
	dir, err := expandWord(in.Args[0], s.vars)
	if err != nil {
		return err
	}
	if !path.IsAbs(dir) {
		dir = path.Join(orRoot(s.cfg.Config.WorkingDir), dir)
	}
	s.cfg.Config.WorkingDir = path.Clean(dir)
	return b.fsStep(ctx, s, in, "workdir "+s.cfg.Config.WorkingDir, func(st *stepDirs) error {
		return b.ws.mkdir(ctx, s, st, s.cfg.Config.WorkingDir)
	})
}

func orRoot(dir string) string {
	if dir == "" {
		return "/"
	}
	return dir
}

// run executes a RUN instruction in a container over the layers so far.
func (b *builder) run(ctx context.Context, s *state, in Instruction) error {
	argv := commandArgs(in)
	job := runJob{Argv: argv, Env: s.runEnv(), Workdir: orRoot(s.cfg.Config.WorkingDir), User: s.cfg.Config.User}
	inputs := strings.Join(argv, "\x00") + "\x01" + strings.Join(job.Env, "\x00") + "\x01" + job.Workdir + "\x01" + job.User
	return b.fsStep(ctx, s, in, inputs, func(st *stepDirs) error {
		return b.ws.run(ctx, s, st, job, b.opts.StateDir, b.opts.Stdout, b.opts.Stderr)
	})
}

// fsStep runs a step that changes files: from the cache when it has the
// key, otherwise by calling do on a fresh upper dir, which then becomes
// the step's layer. A step that changed nothing (WORKDIR on an existing
// directory, RUN echo hello) makes no layer, only a history entry marked
// empty_layer, as BuildKit does: an empty layer would only add a tar of
// nothing to every container's overlay.
func (b *builder) fsStep(ctx context.Context, s *state, in Instruction, inputs string, do func(*stepDirs) error) error {
	key := stepKey(s.key, in, inputs+"\x00"+configDigest(s))
	if e, ok := b.cache.get(key); ok && !b.opts.NoCache {
		if e.DiffID == "" {
			b.cached++
			s.key = key
			s.cfg.History = append(s.cfg.History, ocispec.History{Created: &e.Created, CreatedBy: createdBy(in), EmptyLayer: true})
			b.progress(" ---> CACHED %s", shortKey(key))
			return nil
		}
		if l, ok := b.layerFor(e.DiffID); ok {
			b.cached++
			b.addLayer(s, key, l, e.Created, in)
			b.progress(" ---> CACHED %s", l.diffID.Encoded()[:12])
			return nil
		}
	}
	st, err := b.ws.newStep()
	if err != nil {
		return err
	}
	if err := do(st); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	if empty, err := isEmptyDir(st.upper); err == nil && empty {
		s.key = key
		b.entries = append(b.entries, cacheEntry{Key: key, Created: now})
		s.cfg.History = append(s.cfg.History, ocispec.History{Created: &now, CreatedBy: createdBy(in), EmptyLayer: true})
		b.progress(" ---> %s (no change, no layer)", shortKey(key))
		return nil
	}
	l, err := b.ws.archive(st)
	if err != nil {
		return err
	}
	b.entries = append(b.entries, cacheEntry{Key: key, DiffID: l.diffID, Created: now})
	b.addLayer(s, key, l, now, in)
	b.progress(" ---> %s", l.diffID.Encoded()[:12])
	return nil
}

// layerFor finds a cached layer: in the store, or made earlier in this
// build (a stage that repeats another's steps).
func (b *builder) layerFor(d digest.Digest) (layer, bool) {
	if l, ok := b.ws.made[d]; ok {
		return l, true
	}
	if l, ok := b.opts.Store.Layer(d); ok {
		return layer{diffID: l.DiffID, size: l.Size, dir: l.Dir}, true
	}
	return layer{}, false
}

func (b *builder) addLayer(s *state, key digest.Digest, l layer, created time.Time, in Instruction) {
	s.key = key
	s.layers = append(s.layers, l)
	s.cfg.RootFS.DiffIDs = append(s.cfg.RootFS.DiffIDs, l.diffID)
	s.cfg.History = append(s.cfg.History, ocispec.History{Created: &created, CreatedBy: createdBy(in)})
}

func isEmptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	return len(entries) == 0, err
}

// commit adds the new layers, the image and the cache entries to the store.
func (b *builder) commit(final *state, name string) (digest.Digest, error) {
	cfg := final.cfg
	if n := len(cfg.History); n > 0 {
		cfg.Created = cfg.History[n-1].Created
	}
	ch, err := b.opts.Store.Begin(image.Options{})
	if err != nil {
		return "", err
	}
	defer ch.Abort()
	// Every layer this build made goes in, also those of stages the final
	// image does not use: they are what makes the next build's cache hit.
	for _, d := range b.ws.order {
		l := b.ws.made[d]
		f, err := os.Open(l.tar)
		if err != nil {
			return "", err
		}
		got, _, err := ch.AddLayer(f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("store layer: %w", err)
		}
		if got != d {
			return "", fmt.Errorf("build: layer %s hashed to %s when stored", d, got)
		}
	}
	id, err := ch.AddImage(cfg, name)
	if err != nil {
		return "", err
	}
	if err := ch.Commit(); err != nil {
		return "", err
	}
	// The cache is an optimization: losing an entry only costs a rebuild.
	for _, e := range b.entries {
		_ = b.cache.put(e)
	}
	return id, nil
}
