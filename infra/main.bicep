// StreamTrack on Azure: one resource group per azd environment, holding a Flex
// Consumption Function App (Python 3.11), its storage account reached only through
// a user-assigned managed identity, Application Insights on a Log Analytics
// workspace, and a Key Vault with every secret the app reads.
//
// `azd provision` (or `azd up`) deploys this file at subscription scope so that an
// empty subscription is enough: the resource group is created here. Secret VALUES
// never pass through this template: the operator writes them into the vault
// (README, "Deployment"), and the app settings only carry Key Vault references.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name (AZURE_ENV_NAME): names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region for every resource. It must offer the Flex Consumption plan: `az functionapp list-flexconsumption-locations`.')
param location string

@description('Base URL of the Supabase project, e.g. https://abcd.supabase.co (SUPABASE_URL).')
param supabaseUrl string

@description('Base URL of the frontend; invitation and billing redirect links are built from it.')
param frontendUrl string

@description('Twitch application client id (not a secret); empty leaves TWITCH_CLIENT_ID unset.')
param twitchClientId string = ''

@description('Kick application client id (not a secret); empty leaves KICK_CLIENT_ID unset.')
param kickClientId string = ''

@description('Stripe price id of the pro plan (price_...); empty leaves it unset.')
param stripePricePro string = ''

@description('Stripe price id of the business plan (price_...); empty leaves it unset.')
param stripePriceBusiness string = ''

// Each name listed here becomes an app setting holding a Key Vault reference to the
// secret named like it with `_` replaced by `-` (DATABASE_URL -> DATABASE-URL).
// A reference whose secret is missing resolves to its own literal text, so a
// verification secret left unset would become a publicly guessable key: list only
// the secrets you have written into the vault. SUPABASE_JWT_SECRET (the legacy
// HS256 secret) is therefore off by default, as is DATABASE_READ_URL (the optional
// read replica: add it once its secret exists); the deploy workflow refuses to ship
// while any listed reference is unresolved.
@description('App settings that are Key Vault references; every listed secret must exist in the vault.')
@allowed([
  'DATABASE_URL'
  'DATABASE_READ_URL'
  'SUPABASE_SERVICE_ROLE_KEY'
  'SUPABASE_JWT_SECRET'
  'TWITCH_CLIENT_SECRET'
  'YOUTUBE_API_KEY'
  'KICK_CLIENT_SECRET'
  'TWITCH_EVENTSUB_SECRET'
  'YOUTUBE_WEBSUB_SECRET'
  'STRIPE_SECRET_KEY'
  'STRIPE_WEBHOOK_SECRET'
  'CREDENTIALS_ENCRYPTION_KEY'
  'ENTRA_CLIENT_SECRET'
  'ENTRA_CLIENT_CERTIFICATE'
  'GOOGLE_SERVICE_ACCOUNT_JSON'
  'GOOGLE_OAUTH_CLIENT_SECRET'
])
param secretSettingNames array = [
  'DATABASE_URL'
  'SUPABASE_SERVICE_ROLE_KEY'
  'TWITCH_CLIENT_SECRET'
  'YOUTUBE_API_KEY'
  'KICK_CLIENT_SECRET'
  'TWITCH_EVENTSUB_SECRET'
  'YOUTUBE_WEBSUB_SECRET'
  'STRIPE_SECRET_KEY'
  'STRIPE_WEBHOOK_SECRET'
  'CREDENTIALS_ENCRYPTION_KEY'
  'ENTRA_CLIENT_SECRET'
  'ENTRA_CLIENT_CERTIFICATE'
  'GOOGLE_SERVICE_ACCOUNT_JSON'
  'GOOGLE_OAUTH_CLIENT_SECRET'
]

@description('Extra plain (non-secret) app settings, e.g. {"MONITOR_CONCURRENCY_TWITCH": "8"}; they win over the defaults below.')
param extraAppSettings object = {}

@description('Object id of the person or group who writes secrets into the vault (Key Vault Secrets Officer); empty grants nobody.')
param keyVaultAdminPrincipalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param keyVaultAdminPrincipalType string = 'User'

@description('Object id of the CI service principal (OIDC); it may write release packages and read secret names, nothing more.')
param deployerPrincipalId string = ''

@minValue(1)
@maxValue(1000)
@description('Upper bound of Flex Consumption instances.')
param maximumInstanceCount int = 40

@allowed([2048, 4096])
param instanceMemoryMB int = 2048

// Per-deployment plain settings; optional ones are left out when empty rather
// than set to '' (the app would read '' as a configured value).
var frontendSettings = {
  SUPABASE_URL: supabaseUrl
  INVITATION_ACCEPT_URL: '${frontendUrl}/invitations/accept'
  BILLING_SUCCESS_URL: '${frontendUrl}/billing/success'
  BILLING_CANCEL_URL: '${frontendUrl}/billing/cancel'
  BILLING_PORTAL_RETURN_URL: '${frontendUrl}/billing'
  CONNECTIONS_RETURN_URL: '${frontendUrl}/connections'
}
var twitchSettings = empty(twitchClientId) ? {} : { TWITCH_CLIENT_ID: twitchClientId }
var kickSettings = empty(kickClientId) ? {} : { KICK_CLIENT_ID: kickClientId }
var stripeProSettings = empty(stripePricePro) ? {} : { STRIPE_PRICE_PRO: stripePricePro }
var stripeBusinessSettings = empty(stripePriceBusiness) ? {} : { STRIPE_PRICE_BUSINESS: stripePriceBusiness }
var plainAppSettings = union(frontendSettings, twitchSettings, kickSettings, stripeProSettings, stripeBusinessSettings, extraAppSettings)

var tags = { 'azd-env-name': environmentName, app: 'streamtrack' }
// Deterministic per subscription, environment and region: re-provisioning finds
// the same resources; another region or environment gets its own.
var token = toLower(uniqueString(subscription().id, environmentName, location))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-streamtrack-${token}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: 'log-streamtrack-${token}'
    appInsightsName: 'appi-streamtrack-${token}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${token}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${token}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    adminPrincipalId: keyVaultAdminPrincipalId
    adminPrincipalType: keyVaultAdminPrincipalType
    deployerPrincipalId: deployerPrincipalId
  }
}

module app 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    planName: 'plan-streamtrack-${token}'
    appName: 'func-streamtrack-${token}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.connectionString
    keyVaultName: vault.outputs.name
    secretSettingNames: secretSettingNames
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    plainAppSettings: plainAppSettings
  }
  // The identity's data-plane roles must exist before the host first starts, or
  // its first storage and Key Vault calls fail and are retried for minutes.
  dependsOn: [
    storage
    vault
    monitoring
  ]
}

// azd stores these outputs in the environment (.azure/<env>/.env); the workflows
// and the README's commands read them.
output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output SERVICE_API_URI string = app.outputs.uri
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output RELEASES_CONTAINER_NAME string = storage.outputs.releasesContainerName
output SECRET_SETTING_NAMES array = secretSettingNames
