//! Loading official division files, and the demo city's tree.

use guanai_domain::{RegionCode, RegionLevel};
use guanai_store::regions::{read_division_dir, DivisionFileError};
use guanai_store::{Actor, Store};

use crate::util::TestDb;

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn small_city(dir: &std::path::Path) {
    write(dir, "cities.csv", "code,name,provinceCode\n3699,\"样例市\",36\n");
    write(
        dir,
        "areas.csv",
        "code,name,cityCode,provinceCode\n369901,\"甲县\",3699,36\n369902,\"乙县\",3699,36\n",
    );
    write(
        dir,
        "streets.csv",
        "code,name,areaCode,provinceCode,cityCode\n369901100,\"一镇\",369901,36,3699\n369902100,\"二镇\",369902,36,3699\n",
    );
    write(
        dir,
        "villages.csv",
        "code,name,streetCode,provinceCode,cityCode,areaCode\n369901100200,\"双树村村民委员会\",369901100,36,3699,369901\n369902100001,\"新街社区居委会\",369902100,36,3699,369902\n",
    );
}

#[tokio::test]
async fn a_city_loads_from_files_once_and_again_changes_nothing() {
    let db = TestDb::new().await;
    let store = Store::open(&db.target(), db.keys()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    small_city(dir.path());
    let city = RegionCode::parse("3699").unwrap();
    let set = read_division_dir(dir.path(), &city).unwrap();
    let first = store.regions().import_regions(&set).await.unwrap();
    assert_eq!((first.added, first.renamed, first.unchanged), (7, 0, 0));
    let second = store.regions().import_regions(&set).await.unwrap();
    assert_eq!((second.added, second.renamed, second.unchanged), (0, 0, 7));

    // A renamed village is updated in place.
    write(
        dir.path(),
        "villages.csv",
        "code,name,streetCode\n369901100200,\"双树新村村民委员会\",369901100\n369902100001,\"新街社区居委会\",369902100\n",
    );
    let renamed =
        store.regions().import_regions(&read_division_dir(dir.path(), &city).unwrap()).await.unwrap();
    assert_eq!((renamed.added, renamed.renamed), (0, 1));
    let admin = Actor::system(city.clone());
    let villages =
        store.regions().region_children(&admin, &RegionCode::parse("369901100").unwrap()).await.unwrap();
    assert_eq!(villages[0].name, "双树新村村民委员会");
    assert_eq!(villages[0].short_name, "双树新村");
}

#[tokio::test]
async fn a_malformed_file_is_refused_before_anything_is_written() {
    let db = TestDb::new().await;
    let store = Store::open(&db.target(), db.keys()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    small_city(dir.path());
    // The last village claims a township of another county.
    write(
        dir.path(),
        "villages.csv",
        "code,name,streetCode\n369901100200,\"双树村\",369901100\n369902100001,\"新街社区\",369901100\n",
    );
    let city = RegionCode::parse("3699").unwrap();
    let err = read_division_dir(dir.path(), &city).unwrap_err();
    assert!(matches!(err, DivisionFileError::BadRow { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("villages.csv") && err.to_string().contains("第3行"), "{err}");
    assert!(!store.regions().region_exists(&city).await.unwrap());

    let err = read_division_dir(dir.path(), &RegionCode::parse("3698").unwrap()).unwrap_err();
    assert!(matches!(err, DivisionFileError::CityNotFound(_)));
    let err = read_division_dir(dir.path(), &RegionCode::parse("369901").unwrap()).unwrap_err();
    assert!(matches!(err, DivisionFileError::NotACity(_)));
    let empty = tempfile::tempdir().unwrap();
    let err = read_division_dir(empty.path(), &city).unwrap_err();
    assert!(matches!(err, DivisionFileError::Missing(_)), "{err}");
}

#[tokio::test]
async fn the_demo_city_has_its_official_tree() {
    let db = TestDb::new().await;
    let store = Store::open(&db.target(), db.keys()).await.unwrap();
    let set = guanai_store::regions::demo_city();
    store.regions().import_regions(&set).await.unwrap();
    let city = RegionCode::parse("3608").unwrap();
    let admin = Actor::system(city.clone());
    let counties = store.regions().region_children(&admin, &city).await.unwrap();
    assert_eq!(counties.len(), 13);
    let townships: u64 = counties.iter().map(|c| c.children).sum();
    assert_eq!(townships, 252);
    let mut villages = 0;
    for county in &counties {
        for township in store.regions().region_children(&admin, &county.code).await.unwrap() {
            assert_eq!(township.level, RegionLevel::Township);
            villages += township.children;
        }
    }
    assert_eq!(villages, 2967);
    assert_eq!(store.regions().cities().await.unwrap(), vec![city]);
}
