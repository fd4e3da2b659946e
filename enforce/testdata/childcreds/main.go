// Command childcreds is the command the enforce tests run under `sentinel exec`. It fetches
// credentials the way any AWS SDK program does (config.LoadDefaultConfig: the environment in plain
// exec, the container credentials provider under the credential server) and prints the access
// key id; then, given -ready and -continue, it writes the ready file, waits for the continue file
// and fetches again. With -signals it writes its parent's pid to the ready file and exits with
// 40 + the number of the first SIGINT, SIGTERM or SIGHUP it receives.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

func main() {
	ready := flag.String("ready", "", "file to write once the first fetch is done")
	cont := flag.String("continue", "", "file to wait for before fetching again")
	signals := flag.Bool("signals", false, "wait for a signal instead of fetching")
	flag.Parse()
	if *signals {
		waitForSignal(*ready)
		return
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fail(2, "load config: %v", err)
	}
	fetch(ctx, cfg.Credentials, "first")
	if *ready == "" {
		return
	}
	if err := os.WriteFile(*ready, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		fail(2, "write ready file: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(*cont); err == nil {
			break
		}
		if time.Now().After(deadline) {
			fail(2, "no continue file %s after 30s", *cont)
		}
	}
	if cache, ok := cfg.Credentials.(*aws.CredentialsCache); ok {
		cache.Invalidate()
	}
	fetch(ctx, cfg.Credentials, "second")
}

// fetch retrieves credentials and prints which provider served which key; it exits 3 on failure.
func fetch(ctx context.Context, p aws.CredentialsProvider, which string) {
	creds, err := p.Retrieve(ctx)
	if err != nil {
		fail(3, "%s fetch failed: %v", which, err)
	}
	fmt.Printf("%s fetch: %s from %s\n", which, creds.AccessKeyID, creds.Source)
}

func waitForSignal(ready string) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	if err := os.WriteFile(ready, []byte(strconv.Itoa(os.Getppid())), 0o600); err != nil {
		fail(2, "write ready file: %v", err)
	}
	select {
	case sig := <-ch:
		fmt.Printf("received %v\n", sig)
		os.Exit(40 + int(sig.(syscall.Signal)))
	case <-time.After(30 * time.Second):
		fail(2, "no signal after 30s")
	}
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "childcreds: "+format+"\n", args...)
	os.Exit(code)
}
