package portcullis

// #include "portcullis.h"
import "C"

import "runtime"

// HealthState is the health of one check, best first.
type HealthState uint32

// Health states.
const (
	Healthy   HealthState = C.PCL_HEALTH_HEALTHY
	Degraded  HealthState = C.PCL_HEALTH_DEGRADED
	Unhealthy HealthState = C.PCL_HEALTH_UNHEALTHY
	Critical  HealthState = C.PCL_HEALTH_CRITICAL
)

// String names the state.
func (s HealthState) String() string {
	switch s {
	case Healthy:
		return "healthy"
	case Degraded:
		return "degraded"
	case Unhealthy:
		return "unhealthy"
	case Critical:
		return "critical"
	}
	return "unknown"
}

// HealthConfig holds a health machine's thresholds: DegradeAfter[i] consecutive failures move
// state i to i+1; RecoverAfter[i] (> DegradeAfter[i]) consecutive successes move it back.
type HealthConfig struct {
	DegradeAfter  [3]uint32
	RecoverAfter  [3]uint32
	CheckInterval [4]uint64 // ns, per state
	InitialState  HealthState
}

// DefaultHealthConfig is {3,3,5} failures to degrade, {5,5,10} successes to recover, checks every
// 10 s / 5 s / 2 s / 1 s, starting Healthy.
func DefaultHealthConfig() HealthConfig {
	c := C.pcl_health_config_default()
	var h HealthConfig
	for i := 0; i < 3; i++ {
		h.DegradeAfter[i] = uint32(c.degrade_after[i])
		h.RecoverAfter[i] = uint32(c.recover_after[i])
	}
	for i := 0; i < 4; i++ {
		h.CheckInterval[i] = uint64(c.check_interval_ns[i])
	}
	h.InitialState = HealthState(c.initial_state)
	return h
}

// HealthMachine is a health state machine with hysteresis. Safe for concurrent use.
type HealthMachine struct {
	p *C.pcl_health
}

// NewHealthMachine validates cfg and makes a machine in cfg.InitialState.
func NewHealthMachine(cfg HealthConfig) (*HealthMachine, error) {
	c := C.pcl_health_config_default()
	for i := 0; i < 3; i++ {
		c.degrade_after[i] = C.uint32_t(cfg.DegradeAfter[i])
		c.recover_after[i] = C.uint32_t(cfg.RecoverAfter[i])
	}
	for i := 0; i < 4; i++ {
		c.check_interval_ns[i] = C.uint64_t(cfg.CheckInterval[i])
	}
	c.initial_state = C.uint32_t(cfg.InitialState)
	var p *C.pcl_health
	if err := check(C.pcl_health_new(&c, &p)); err != nil {
		return nil, err
	}
	h := &HealthMachine{p: p}
	runtime.SetFinalizer(h, (*HealthMachine).Close)
	return h, nil
}

// Close frees the machine. Idempotent; must not race with other calls.
func (h *HealthMachine) Close() error {
	if h.p != nil {
		C.pcl_health_free(h.p)
		h.p = nil
		runtime.SetFinalizer(h, nil)
	}
	return nil
}

// RecordAt records one check result at nowNs and returns the states before and after.
func (h *HealthMachine) RecordAt(success bool, nowNs uint64) (from, to HealthState, err error) {
	if h.p == nil {
		return 0, 0, ErrClosed
	}
	var tr C.pcl_health_transition
	err = check(C.pcl_health_record(h.p, C.bool(success), C.uint64_t(nowNs), &tr))
	runtime.KeepAlive(h)
	return HealthState(tr.from), HealthState(tr.to), err
}

// State is the current state.
func (h *HealthMachine) State() (HealthState, error) {
	if h.p == nil {
		return 0, ErrClosed
	}
	var s C.uint32_t
	err := check(C.pcl_health_state(h.p, &s))
	runtime.KeepAlive(h)
	return HealthState(s), err
}
