// Package loopback holds what every AWS stand-in of the tests needs: serving a handler on a
// free 127.0.0.1 port, and reading the SigV4 credential scope of a request.
package loopback

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Serve serves h on a new listener on 127.0.0.1 with a free port. It returns the endpoint URL
// ("http://127.0.0.1:PORT") and a stop function that shuts the listener down, giving in-flight
// requests up to a second to finish.
func Serve(h http.Handler) (endpoint string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // ErrServerClosed after stop; other errors reach clients as connection errors
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			// Shutdown waits for in-flight requests but also for connections a client opened and
			// never used, up to 5 s; do not wait that long.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if srv.Shutdown(ctx) != nil {
				_ = srv.Close()
			}
			<-done
		})
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// CredentialScope returns the access key id and region of a SigV4-signed request
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request in the Authorization header, or a presigned
// query), the region defaulting to fallback.
func CredentialScope(r *http.Request, fallback string) (accessKey, region string) {
	scope := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			scope = auth[i+len("Credential="):]
			if j := strings.IndexAny(scope, ", "); j >= 0 {
				scope = scope[:j]
			}
		}
	} else {
		scope = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(scope, "/")
	region = fallback
	if len(parts) == 5 {
		accessKey = parts[0]
		if parts[2] != "" {
			region = parts[2]
		}
	}
	return accessKey, region
}
