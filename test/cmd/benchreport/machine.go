package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
)

// machine describes this machine; dir is where the WALs are written.
func machine(dir string) benchreport.Machine {
	m := benchreport.Machine{
		Cores:      runtime.NumCPU(),
		CPUModel:   procField("/proc/cpuinfo", "model name"),
		Kernel:     strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		MemTotal:   memTotal(procField("/proc/meminfo", "MemTotal")),
		Disk:       disk(dir),
		LoadBefore: loadAverage(),
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	return m
}

func readFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return string(data)
}

// procField returns the value of the first "key : value" line of a /proc
// file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage is the 1, 5 and 15 minute load average.
func loadAverage() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// disk names the device and filesystem holding dir, with the device's model
// and whether it is rotational when sysfs says.
func disk(dir string) string {
	out, err := exec.Command("findmnt", "-no", "SOURCE,FSTYPE,OPTIONS", "-T", dir).Output()
	if err != nil {
		return "unknown (findmnt: " + err.Error() + ")"
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return "unknown"
	}
	desc := fmt.Sprintf("%s, %s", f[0], f[1])
	dev := filepath.Base(f[0])
	sys := filepath.Join("/sys/class/block", dev)
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		if parent, err := filepath.EvalSymlinks(sys); err == nil {
			sys = filepath.Dir(parent)
		}
	}
	if model := strings.TrimSpace(readFile(filepath.Join(sys, "device", "model"))); model != "unknown" && model != "" {
		desc += ", model " + model
	} else if strings.HasPrefix(dev, "vd") {
		desc += ", virtio block device"
	}
	switch strings.TrimSpace(readFile(filepath.Join(sys, "queue", "rotational"))) {
	case "0":
		desc += ", sysfs rotational=0"
	case "1":
		desc += ", sysfs rotational=1"
	}
	return desc + fmt.Sprintf(" (%s)", dir)
}

// gitCommit is the checked-out commit, "-dirty" when tracked files differ.
func gitCommit(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	if err := exec.Command("git", "-C", root, "diff", "--quiet", "HEAD", "--").Run(); err != nil {
		commit += "-dirty"
	}
	return commit
}

// memTotal turns /proc/meminfo's "24683620 kB" into "23.5 GiB".
func memTotal(v string) string {
	f := strings.Fields(v)
	if len(f) != 2 || f[1] != "kB" {
		return v
	}
	kb, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}
