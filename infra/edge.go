package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rengas/rengas/shared/httpapi"
)

// Throttles per route (requests a second and burst), on top of the
// stage's default for every other route: anonymous callers share the
// public routes' small allowance and cannot use up the bidders'.
var (
	PublicThrottle = Throttle{Rate: 20, Burst: 40}
	BidderThrottle = Throttle{Rate: 200, Burst: 1000}
)

// Throttle is a route's rate and burst limit.
type Throttle struct{ Rate, Burst float64 }

// ExposedHeaders are the response headers a browser script of another
// origin may read.
var ExposedHeaders = []string{"Next-Cursor", "Idempotent-Replayed", "Retry-After", "Location"}

func contextString(st awscdk.Stack, k string) string {
	v, _ := st.Node().TryGetContext(s(k)).(string)
	return strings.TrimSpace(v)
}

// corsPreflight is CORS from the context corsOrigins (comma-separated
// origins; none by default, so browsers on other origins are refused):
// npx cdk deploy -c corsOrigins=https://hankinnat.lahti.fi
func corsPreflight(st awscdk.Stack) *awsapigatewayv2.CorsPreflightOptions {
	var origins []*string
	for o := range strings.SplitSeq(contextString(st, "corsOrigins"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, s(o))
		}
	}
	if len(origins) == 0 {
		return nil
	}
	return &awsapigatewayv2.CorsPreflightOptions{
		AllowOrigins: &origins,
		AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST,
			awsapigatewayv2.CorsHttpMethod_PUT, awsapigatewayv2.CorsHttpMethod_OPTIONS},
		AllowHeaders:  jsii.Strings("Authorization", "Content-Type", "Idempotency-Key"),
		ExposeHeaders: jsii.Strings(ExposedHeaders...),
		MaxAge:        awscdk.Duration_Hours(jsii.Number(1)),
	}
}

// publicURL is where users reach Rengas: https://<domainName> when the
// context names a custom domain, else the HTTP API's own endpoint.
func publicURL(st awscdk.Stack, api awsapigatewayv2.HttpApi) *string {
	if d := contextString(st, "domainName"); d != "" {
		return s("https://" + d)
	}
	return api.ApiEndpoint()
}

// pagesOrigin is the origin the pages are served from, for the documents
// bucket's CORS: the custom domain when one is named, else any HTTP API
// endpoint of the region (the API's own address is not known to the
// stateful stack, which the API depends on).
func pagesOrigin(st awscdk.Stack) *string {
	if d := contextString(st, "domainName"); d != "" {
		return s("https://" + d)
	}
	return s("https://*.execute-api." + *st.Region() + ".amazonaws.com")
}

// Edge is what stands in front of the API.
type Edge struct {
	OpenData awscloudfront.Distribution
	Domain   awsapigatewayv2.DomainName
}

// addEdge sets the per-route throttles on the stage, puts open data behind
// CloudFront and maps the optional custom domain (context domainName and
// certificateArn, an ACM certificate in the stack's region).
func addEdge(st awscdk.Stack, app *App, stage awsapigatewayv2.HttpStage) *Edge {
	e := &Edge{}
	// Every function knows the public address (links in mail, stable
	// OCDS package URIs on the custom domain).
	for _, fn := range Functions {
		if fn.Name == CognitoFunction {
			// It writes no links, and the user pool that calls it is
			// what the API's authorizer needs: the address would close a
			// dependency cycle.
			continue
		}
		app.Functions[fn.Name].AddEnvironment(s("PUBLIC_BASE_URL"), app.PublicURL, nil)
	}
	settings := map[string]any{}
	for _, rt := range httpapi.Routes {
		var t *Throttle
		switch {
		case rt.Roles == nil:
			t = &PublicThrottle
		case strings.Contains(rt.Path, "/bids/mine"):
			t = &BidderThrottle
		}
		if t != nil {
			settings[rt.Method+" "+rt.Path] = map[string]any{"ThrottlingRateLimit": t.Rate, "ThrottlingBurstLimit": t.Burst}
		}
	}
	cfn := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfn.SetRouteSettings(settings)
	for _, r := range app.Routes {
		stage.Node().AddDependency(r) // a route's settings need the route
	}

	// Open data through CloudFront: the open-data answers say how long they
	// may be kept (Cache-Control: public, max-age), and the cache honours
	// it, so a repeated read reaches neither the function nor DynamoDB.
	origin := awscloudfrontorigins.NewHttpOrigin(awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(s("/"), app.API.ApiEndpoint(), nil)), &awscloudfrontorigins.HttpOriginProps{
		ProtocolPolicy: awscloudfront.OriginProtocolPolicy_HTTPS_ONLY,
	})
	openData := awscloudfront.NewCachePolicy(st, s("OpenDataCache"), &awscloudfront.CachePolicyProps{
		Comment:    s("Rengas open data: as long as the origin's Cache-Control allows, nothing when it sends none"),
		DefaultTtl: awscdk.Duration_Seconds(jsii.Number(0)), MinTtl: awscdk.Duration_Seconds(jsii.Number(0)), MaxTtl: awscdk.Duration_Days(jsii.Number(1)),
		QueryStringBehavior: awscloudfront.CacheQueryStringBehavior_All(), HeaderBehavior: awscloudfront.CacheHeaderBehavior_None(),
		CookieBehavior:             awscloudfront.CacheCookieBehavior_None(),
		EnableAcceptEncodingGzip:   jsii.Bool(true),
		EnableAcceptEncodingBrotli: jsii.Bool(true),
	})
	logs := awss3.NewBucket(st, s("EdgeLogs"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(), EnforceSSL: jsii.Bool(true),
		ObjectOwnership: awss3.ObjectOwnership_OBJECT_WRITER, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(400))}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(logs, &[]*cdknag.NagPackSuppression{{
		Id: s("AwsSolutions-S1"), Reason: s("This bucket receives the open-data distribution's access logs; logging it into itself would loop."),
	}}, nil)
	behavior := func(cache awscloudfront.ICachePolicy) *awscloudfront.BehaviorOptions {
		return &awscloudfront.BehaviorOptions{
			Origin: origin, CachePolicy: cache, Compress: jsii.Bool(true),
			AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_GET_HEAD_OPTIONS(),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			OriginRequestPolicy:  awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
		}
	}
	e.OpenData = awscloudfront.NewDistribution(st, s("OpenData"), &awscloudfront.DistributionProps{
		Comment: s("Rengas open data, cached"),
		// Everything else passes through uncached; the open data is what
		// this address is for.
		DefaultBehavior:     behavior(awscloudfront.CachePolicy_CACHING_DISABLED()),
		AdditionalBehaviors: &map[string]*awscloudfront.BehaviorOptions{"/open-data/*": behavior(openData)},
		EnableLogging:       jsii.Bool(true), LogBucket: logs, LogFilePrefix: s("open-data/"),
		PriceClass: awscloudfront.PriceClass_PRICE_CLASS_100,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(e.OpenData, &[]*cdknag.NagPackSuppression{
		{Id: s("AwsSolutions-CFR1"), Reason: s("Public open data (OCDS) is meant for everyone, wherever they are.")},
		{Id: s("AwsSolutions-CFR2"), Reason: s("Reads only (GET/HEAD), throttled per route at the API and cached; a WAF can be attached by the ring if needed.")},
		{Id: s("AwsSolutions-CFR4"), Reason: s("The distribution uses CloudFront's default certificate (*.cloudfront.net), whose security policy CloudFront fixes; open data is public and read-only.")},
	}, nil)
	awscdk.NewCfnOutput(st, s("OpenDataUrl"), &awscdk.CfnOutputProps{
		Value: awscdk.Fn_Join(s(""), &[]*string{s("https://"), e.OpenData.DistributionDomainName(), s("/open-data/")}),
	})

	if d := contextString(st, "domainName"); d != "" {
		arn := contextString(st, "certificateArn")
		if arn == "" {
			awscdk.Annotations_Of(st).AddError(s("a custom domain needs its ACM certificate in this region: -c domainName=" + d + " -c certificateArn=arn:aws:acm:..."))
			return e
		}
		e.Domain = awsapigatewayv2.NewDomainName(st, s("CustomDomain"), &awsapigatewayv2.DomainNameProps{
			DomainName:  s(d),
			Certificate: awscertificatemanager.Certificate_FromCertificateArn(st, s("CustomDomainCertificate"), s(arn)),
		})
		awsapigatewayv2.NewApiMapping(st, s("CustomDomainMapping"), &awsapigatewayv2.ApiMappingProps{Api: app.API, DomainName: e.Domain, Stage: stage})
		awscdk.NewCfnOutput(st, s("CustomDomainTarget"), &awscdk.CfnOutputProps{
			Description: s("Point the custom domain here (CNAME or alias record)"),
			Value:       e.Domain.RegionalDomainName(),
		})
	}
	return e
}
