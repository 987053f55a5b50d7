package reliability

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// mqttTopicBase is the scenario's mqtt.topic_base.
const mqttTopicBase = "reliability"

// startMosquitto starts a Mosquitto on s.mqttPort with a persistent store,
// so that messages queued for the subscriber survive a restart. Mosquitto
// drops privileges to its own user when started as root, so its directory
// is a world-writable directory of its own under the system's temporary
// directory (the work directory may not be traversable by that user).
func (s *system) startMosquitto(ctx context.Context) error {
	if s.mqttDir == "" {
		dir, err := os.MkdirTemp("", "fleetrelay-reliability-mosquitto-")
		if err != nil {
			return fmt.Errorf("mosquitto dir: %w", err)
		}
		// The store must be writable after the privilege drop.
		if err := os.Chmod(dir, 0o777); err != nil {
			return fmt.Errorf("mosquitto dir: %w", err)
		}
		s.mqttDir = dir
	}
	dir := s.mqttDir
	conf := filepath.Join(dir, "mosquitto.conf")
	body := fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
persistence true
persistence_location %s/
autosave_interval 1
max_queued_messages 0
max_queued_bytes 0
log_dest stdout
log_type error
log_type warning
`, s.mqttPort, dir)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return fmt.Errorf("mosquitto config: %w", err)
	}
	p, err := startProcess(s.logDir, "mqtt", "/usr/sbin/mosquitto", "-c", conf)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.procs["mqtt"] = p
	s.down["mqtt"] = false
	s.mu.Unlock()
	return waitListening(ctx, p, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.mqttPort)), 15*time.Second)
}

// mosquittoErrors returns the error lines Mosquitto logged (for example a
// store it could not write, which would lose queued messages on restart).
func (s *system) mosquittoErrors() []string {
	logs, _ := filepath.Glob(filepath.Join(s.logDir, "mqtt-*.log"))
	var out []string
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			out = append(out, fmt.Sprintf("mosquitto log: %v", err))
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "Error:") && len(out) < sampleMax {
				out = append(out, "mosquitto: "+line)
			}
		}
	}
	return out
}

// mqttSubscriber receives every message under the scenario's topic base
// with a persistent session at QoS 1, counting messages per topic.
type mqttSubscriber struct {
	client paho.Client

	mu     sync.Mutex
	counts map[string]int
	total  int
	last   time.Time
}

func newMQTTSubscriber(broker string) (*mqttSubscriber, error) {
	sub := &mqttSubscriber{counts: map[string]int{}}
	opts := paho.NewClientOptions().AddBroker(broker).SetClientID("reliability-subscriber").
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(200 * time.Millisecond).SetMaxReconnectInterval(500 * time.Millisecond).
		SetOrderMatters(true).SetKeepAlive(5 * time.Second)
	opts.SetOnConnectHandler(func(c paho.Client) {
		// A persistent session keeps the subscription; subscribing again
		// is harmless and covers a broker that lost its store.
		c.Subscribe(mqttTopicBase+"/#", 1, sub.handle)
	})
	sub.client = paho.NewClient(opts)
	tok := sub.client.Connect()
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("mqtt subscriber connect %s: %v", broker, tok.Error())
	}
	return sub, nil
}

func (m *mqttSubscriber) handle(_ paho.Client, msg paho.Message) {
	m.mu.Lock()
	m.counts[msg.Topic()]++
	m.total++
	m.last = time.Now()
	m.mu.Unlock()
}

// quiet waits until no message has arrived for d (or timeout).
func (m *mqttSubscriber) quiet(ctx context.Context, d, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		m.mu.Lock()
		idle := time.Since(m.last)
		m.mu.Unlock()
		if idle >= d {
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func (m *mqttSubscriber) snapshot() (map[string]int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int, len(m.counts))
	for k, v := range m.counts {
		out[k] = v
	}
	return out, m.total
}

func (m *mqttSubscriber) close() { m.client.Disconnect(250) }

// mqttTopics returns the MQTT topics the mqtt sink publishes for one WAL
// record (see forwarder/datastore/mqtt): one per V field with a value
// (the last datum of a field wins), an alert's current state (when one has
// a start time) and history per alert name, and one message per error.
func mqttTopics(vin, topic string, payload []byte) ([]string, error) {
	prefix := mqttTopicBase + "/" + vin + "/"
	var out []string
	switch topic {
	case "V":
		var p vehiclepb.Payload
		if err := proto.Unmarshal(payload, &p); err != nil {
			return nil, fmt.Errorf("payload of topic V: %w", err)
		}
		seen := map[string]bool{}
		for _, d := range p.GetData() {
			if d.GetValue().GetValue() == nil {
				continue
			}
			t := prefix + "v/" + d.GetKey().String()
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	case "alerts":
		var p vehiclepb.VehicleAlerts
		if err := proto.Unmarshal(payload, &p); err != nil {
			return nil, fmt.Errorf("alerts payload: %w", err)
		}
		names, started := []string{}, map[string]bool{}
		for _, a := range p.GetAlerts() {
			if _, ok := started[a.GetName()]; !ok {
				names = append(names, a.GetName())
				started[a.GetName()] = false
			}
			if a.GetStartedAt() != nil {
				started[a.GetName()] = true
			}
		}
		for _, n := range names {
			if started[n] {
				out = append(out, prefix+"alerts/"+n+"/current")
			}
			out = append(out, prefix+"alerts/"+n+"/history")
		}
	case "errors":
		var p vehiclepb.VehicleErrors
		if err := proto.Unmarshal(payload, &p); err != nil {
			return nil, fmt.Errorf("errors payload: %w", err)
		}
		for _, e := range p.GetErrors() {
			out = append(out, prefix+"errors/"+e.GetName())
		}
	default:
		return nil, fmt.Errorf("no MQTT layout for topic %q", topic)
	}
	return out, nil
}

// checkMQTT compares the messages received per MQTT topic with what the
// WAL's records call for. MQTT messages carry no txid, so records cannot
// be traced one by one: a topic that received fewer messages than the WAL
// records publishing to it lost messages; more are duplicates.
func checkMQTT(expected, got map[string]int, total int) SinkResult {
	res := SinkResult{Sink: "mqtt", Messages: total}
	var short []string
	for topic, want := range expected {
		have := got[topic]
		if have < want {
			res.Lost += want - have
			short = append(short, fmt.Sprintf("%s: %d of %d messages", topic, have, want))
		} else {
			res.Duplicates += have - want
		}
		res.Distinct += min(have, want)
	}
	for topic, have := range got {
		if _, ok := expected[topic]; !ok {
			res.Unmapped += have
		}
	}
	sort.Strings(short)
	if len(short) > sampleMax {
		short = short[:sampleMax]
	}
	res.LostSample = short
	if total > 0 {
		res.DuplicateRate = float64(res.Duplicates) / float64(total)
	}
	return res
}
