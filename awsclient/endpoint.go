package awsclient

import (
	"context"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// reachability makes the calls of a client that never got an answer unreachableErrors, which
// name the endpoint and where it came from: flagURL (--endpoint-url), else the client's service
// variable (AWS_ENDPOINT_URL_<envService>), else another AWS_ENDPOINT_URL_* (the credential chain
// calls SSO and STS too), else AWS_ENDPOINT_URL.
func reachability(flagURL, envService string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("SentinelReachability",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				var send *smithyhttp.RequestSendError
				if err == nil || !errors.As(err, &send) {
					return out, md, err
				}
				e := &unreachableError{err: err}
				var urlErr *url.Error
				if errors.As(err, &urlErr) {
					e.endpoint = origin(urlErr.URL)
					e.source = endpointSource(e.endpoint, flagURL, envService)
				}
				return out, md, e
			}), middleware.Before)
	}
}

// endpointSource is where endpoint came from ("" when from nowhere Sentinel can name: AWS's own,
// a shared config file's endpoint_url).
func endpointSource(endpoint, flagURL, envService string) string {
	if flagURL != "" && origin(flagURL) == endpoint {
		return "--endpoint-url"
	}
	own := "AWS_ENDPOINT_URL_" + envService
	var others []string
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_ENDPOINT_URL_") && name != own && value != "" && origin(value) == endpoint {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	switch {
	case os.Getenv(own) != "" && origin(os.Getenv(own)) == endpoint:
		return own
	case len(others) > 0:
		return others[0]
	case os.Getenv("AWS_ENDPOINT_URL") != "" && origin(os.Getenv("AWS_ENDPOINT_URL")) == endpoint:
		return "AWS_ENDPOINT_URL"
	}
	return ""
}

// origin is the scheme and host of a URL ("" when it is none).
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
