package poller_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// heartbeatMargin is how far inside the online window MaxGap keeps, for the
// poll's own latency and clocks that disagree.
const heartbeatMargin = 2 * time.Minute

// The platform's timings are defined once, in models; the poller's names are
// that definition, the client's minutes are too, and MaxGap is a literal that
// must stay OnlineWindow minus the margin.
func TestPlatformConstants(t *testing.T) {
	tests := []struct {
		name      string
		got, want time.Duration
	}{
		{"DefaultCadence is the models one", poller.DefaultCadence, models.DefaultCadence},
		{"DefaultCadence is 20 minutes", poller.DefaultCadence, 20 * time.Minute},
		{"the client's minutes are the same cadence", time.Duration(client.DefaultPollIntervalMinutes) * time.Minute, poller.DefaultCadence},
		{"OnlineWindow is the models one", poller.OnlineWindow, models.OnlineWindow},
		{"MaxGap's literal value", poller.MaxGap, 58 * time.Minute},
		{"MaxGap is OnlineWindow minus the margin", poller.MaxGap, poller.OnlineWindow - heartbeatMargin},
		{"DefaultCadence within the clamp", min(max(poller.DefaultCadence, poller.MinCadence), poller.MaxCadence), poller.DefaultCadence},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}
