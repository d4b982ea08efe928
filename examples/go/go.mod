module example.com/gamestack

go 1.25

require (
	github.com/aws/aws-cdk-go/awscdk/v2 v2.177.0
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/engineal/cdk-ecs-public-discovery-go/cdkecspublicdiscovery/v2 v2.0.0
)
