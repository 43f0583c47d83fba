// The Function App on a Flex Consumption (FC1, Linux) plan. On Flex the runtime,
// scaling and deployment source are properties of the site (`functionAppConfig`),
// not app settings: FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
// WEBSITE_RUN_FROM_PACKAGE and linuxFxVersion are deprecated there and must not be
// set. The app runs from the zip that `azd deploy` uploads into the deployment
// container; there are no deployment slots (rollback: see .github/workflows/deploy.yml).
param planName string
param appName string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param blobEndpoint string
param deploymentContainerName string
param appInsightsConnectionString string
param keyVaultName string
param secretSettingNames array
param plainAppSettings object
param maximumInstanceCount int
param instanceMemoryMB int

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy on Flex Consumption exists only in some regions and the location is a parameter; one regional deployment is the stated target.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

// Timer and queue triggers read these through %NAME%, which the host resolves from
// app settings only (pydantic's defaults in shared/config.py are not visible to
// it), so each must be present. Values are the documented defaults, all UTC.
var defaultSettings = {
  MONITOR_SCHEDULE: '0 * * * * *'
  MONITOR_QUEUE_NAME: 'monitor-shards'
  RETENTION_SCHEDULE: '0 17 3 * * *'
  ANALYTICS_REFRESH_SCHEDULE: '0 */5 * * * *'
  STRIPE_RECONCILE_SCHEDULE: '0 30 3 * * *'
  DIRECTORY_SCHEDULE: '0 20 * * * *'
  CONNECTIONS_SCHEDULE: '0 */15 * * * *'
  ANALYTICS_IMPORT_SCHEDULE: '0 40 9 * * *'
  ALERTS_SCHEDULE: '*/10 * * * * *'
  PUSH_SCHEDULE: '*/5 * * * * *'
  PUSH_SUBSCRIPTIONS_SCHEDULE: '0 */10 * * * *'
  LOG_LEVEL: 'INFO'
}

// Identity-based host storage: no connection string, no key. The same account
// name and client id are what the app's own queue client must use.
var platformSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Lets azure-identity's DefaultAzureCredential pick the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  // Local auth is off on the component: the host authenticates as the identity.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // host.json telemetryMode OpenTelemetry: the Python worker joins the host's trace
  // (the app exports its own spans and metrics as the identity, shared/telemetry).
  PYTHON_ENABLE_OPENTELEMETRY: 'true'
}

var plainSettings = [
  for setting in items(union(defaultSettings, plainAppSettings, platformSettings)): {
    name: setting.key
    value: string(setting.value)
  }
]

var secretSettings = [
  for name in secretSettingNames: {
    name: name
    // Versionless: a rotated secret is picked up on the next refresh or restart.
    value: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${replace(name, '_', '-')})'
  }
]

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: a public API (frontend, Stripe and platform webhooks call it); requests are authorised by Supabase JWTs, function keys and webhook signatures.
  // checkov:skip=CKV_AZURE_17: callers are browsers and webhook senders that present no client certificate.
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero by design; always-ready instances would be billed around the clock.
  // checkov:skip=CKV_AZURE_213: Flex Consumption has no platform health check (healthCheckPath); the deploy workflow probes /api/health instead.
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' }) // azd deploy finds the app by this tag
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references are resolved with the user-assigned identity.
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: concat(plainSettings, secretSettings)
    }
  }
}

// No publishing passwords: deployments authenticate with Entra ID (azd, az CLI).
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

output name string = app.name
output uri string = 'https://${app.properties.defaultHostName}'
