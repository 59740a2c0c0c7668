/// Moroccan names as volunteers write them, with a rough frequency, the Arabic spelling and the French spellings
/// also seen ("Latin|Arabic|weight|variant,variant"). Family names written with the article in Arabic take "El"
/// in French now and then ("El Alaoui", "Alaoui").
enum MoroccanNames {
    static let male = parse(
        """
        Mohamed|محمد|90|Mohammed,Mohamad,Mhamed,Mohammad
        Ahmed|أحمد|18|Ahmad
        Abdellah|عبد الله|12|Abdallah,Abdelah
        Hassan|حسن|14|Hasan
        Said|سعيد|12|Saïd
        Mustapha|مصطفى|10|Mostafa,Moustapha
        Abdelkader|عبد القادر|8|Abdelkadir
        Rachid|رشيد|12|Rochdi
        Youssef|يوسف|11|Youssouf,Yousef
        Omar|عمر|7|Omer
        Ali|علي|9|
        Brahim|إبراهيم|9|Ibrahim
        Khalid|خالد|10|Khaled
        Abdelaziz|عبد العزيز|7|Abdel Aziz
        Hamid|حميد|7|
        Driss|إدريس|7|Idriss
        Abderrahim|عبد الرحيم|7|Abderahim
        Aziz|عزيز|5|
        Lahcen|لحسن|7|Lahsen,Lahssen
        Hicham|هشام|7|Hisham
        Karim|كريم|6|
        Noureddine|نور الدين|6|Nour Eddine,Nourdine
        Abdelhak|عبد الحق|4|Abdelhaq
        Jamal|جمال|6|Jamel
        Hamza|حمزة|5|
        Mehdi|المهدي|5|El Mehdi
        Adil|عادل|6|Adel
        Anouar|أنوار|3|Anwar
        Amine|أمين|6|Amin
        Yassine|ياسين|6|Yacine,Yassin
        Ayoub|أيوب|5|Ayoube
        Ilyas|إلياس|4|Ilias
        Bilal|بلال|4|
        Ismail|إسماعيل|5|Smail
        Othmane|عثمان|4|Otmane,Outhmane
        Zakaria|زكرياء|4|Zakariae
        Soufiane|سفيان|4|Sofiane
        Tarik|طارق|5|Tariq
        Reda|رضا|4|Rida
        Nabil|نبيل|5|
        Samir|سمير|5|
        Redouane|رضوان|4|Radouane,Redwane
        Abdelilah|عبد الإله|4|Abdelillah
        Abdelmajid|عبد المجيد|4|Abdelmjid
        Abdeslam|عبد السلام|5|Abdesslam,Abdessalam
        Abdelghani|عبد الغني|3|
        Abdelkrim|عبد الكريم|5|Abdelkarim
        Mbarek|مبارك|5|Embarek,Mobarak
        Lhoussaine|الحسين|5|Lhoucine,El Houssaine
        Houssaine|حسين|4|Houcine,Hussein
        Boujemaa|بوجمعة|4|Boujmaa
        Bouchaib|بوشعيب|5|Bouchaïb
        Jilali|الجيلالي|4|Jillali,Djilali
        Larbi|العربي|5|Larbie
        Miloud|ميلود|4|
        Abdelouahed|عبد الواحد|4|Abdelwahed
        Kamal|كمال|4|Kamel
        Salah|صلاح|4|
        Fouad|فؤاد|4|
        Najib|نجيب|3|
        Khalil|خليل|3|
        Saad|سعد|4|
        Hakim|حكيم|3|
        Azzeddine|عز الدين|3|Azeddine,Azzedine
        Taoufik|توفيق|4|Tawfik,Toufik
        Mounir|منير|4|
        Mourad|مراد|5|Morad
        Abdessamad|عبد الصمد|4|Abdessamade
        Younes|يونس|5|Younesse,Yunes
        Anas|أنس|3|
        Walid|وليد|4|Oualid
        Marouane|مروان|4|Marwane,Marwan
        Oussama|أسامة|4|Ousama,Oussema
        Imad|عماد|3|
        Badr|بدر|3|Badre
        Chakib|شكيب|2|
        Abdelmalek|عبد المالك|3|Abdelmalik
        """)

    static let female = parse(
        """
        Fatima|فاطمة|60|Fatma,Fatema
        Khadija|خديجة|22|Khadidja,Khadouja
        Aicha|عائشة|16|Aïcha,Aisha,Aycha
        Fatima Zahra|فاطمة الزهراء|8|Fatima-Zahra,Fatimazahra
        Naima|نعيمة|11|Naïma
        Malika|مليكة|11|Malica
        Rachida|رشيدة|9|
        Saida|سعيدة|8|Saïda
        Karima|كريمة|9|
        Amina|أمينة|9|Aminah
        Latifa|لطيفة|8|
        Najat|نجاة|6|Najate
        Hafida|حفيظة|6|Hafidha
        Fatiha|فتيحة|8|
        Zohra|زهرة|7|Zahra
        Hayat|حياة|5|Hayate
        Samira|سميرة|6|
        Nadia|نادية|7|Nadya
        Souad|سعاد|6|Souade
        Houria|حورية|4|Hourya
        Meryem|مريم|7|Mariam,Maryam,Meriem
        Salma|سلمى|4|
        Hanane|حنان|5|Hanan
        Loubna|لبنى|4|Lobna
        Nezha|نزهة|4|Nazha
        Mina|مينة|5|
        Hakima|حكيمة|5|
        Halima|حليمة|5|
        Zineb|زينب|6|Zaynab,Zainab
        Asmae|أسماء|4|Asma,Asmaa
        Btissam|ابتسام|4|Ibtissam,Ibtissame
        Ilham|إلهام|4|Ilhame
        Jamila|جميلة|5|Jamilah
        Laila|ليلى|4|Leila,Layla
        Nawal|نوال|4|Naoual
        Siham|سهام|4|Sihame
        Wafae|وفاء|3|Wafa,Ouafae
        Imane|إيمان|5|Iman,Imen
        Sanae|سناء|4|Sanaa
        Ghizlane|غزلان|3|Ghizlan,Rhizlane
        Hind|هند|3|
        Kaoutar|كوثر|3|Kawtar,Kaoutare
        Soumia|سمية|4|Soumaya,Somia
        Touria|ثريا|4|Thouria,Turia
        Rabia|ربيعة|4|Rabiaa
        Yamina|يمينة|4|
        Zakia|زكية|3|Zakiya
        Mbarka|مباركة|3|Embarka
        Habiba|حبيبة|3|
        Hadda|حدة|3|Hada
        Fadwa|فدوى|3|Fadoua
        Oumaima|أميمة|3|Oumayma
        Hasna|حسناء|3|Hasnaa
        Khaoula|خولة|3|Khawla
        Chaimae|شيماء|3|Chaima,Shaimae
        Hajar|هاجر|4|Hajare
        Ikram|إكرام|3|
        Noura|نورة|3|Nora
        Sara|سارة|4|Sarah
        Yasmine|ياسمين|3|Yasmina
        Kenza|كنزة|3|
        Rajae|رجاء|3|Raja,Rajaa
        Bouchra|بشرى|4|Bochra
        Aziza|عزيزة|4|
        Fettouma|فطومة|3|Fattouma
        Hafsa|حفصة|3|
        """)

    static let family = parse(
        """
        El Alaoui|العلوي|22|Alaoui,Elalaoui
        El Idrissi|الإدريسي|16|Idrissi,Drissi,Elidrissi
        Bennani|بناني|13|Benani
        Tazi|التازي|8|Ettazi
        El Fassi|الفاسي|7|Fassi
        Berrada|برادة|6|Berada
        Benjelloun|بنجلون|7|Ben Jelloun
        El Alami|العلمي|10|Alami
        El Amrani|العمراني|10|Lamrani,Amrani
        Cherkaoui|الشرقاوي|7|Charkaoui,Cherqaoui
        Chraibi|الشرايبي|5|Chraïbi
        Ouazzani|الوزاني|6|Ouazani,Wazzani
        Tahiri|الطاهري|8|Ettahiri
        Benali|بنعلي|6|Ben Ali
        Ziani|الزياني|6|Zyani
        Bouzid|بوزيد|5|Bouzit
        El Mansouri|المنصوري|7|Mansouri
        Lahlou|لحلو|4|
        Kettani|الكتاني|5|Kattani
        Sqalli|السقلي|4|Skalli
        Guessous|كسوس|3|Gassous
        Sebti|السبتي|4|Essebti
        Slaoui|السلاوي|5|Esslaoui
        Filali|الفيلالي|6|El Filali
        Rifi|الريفي|5|Errifi
        Zerhouni|الزرهوني|4|Zarhouni
        Hajji|الحجي|5|El Hajji
        Naciri|الناصري|6|Nasiri,Nassiri
        Benkirane|بنكيران|5|Benkiran
        Bouazza|بوعزة|4|Bouaza
        Boukhari|البخاري|5|El Boukhari
        Ait Ali|آيت علي|5|Aït Ali,Ait-Ali
        Ait Lahcen|آيت لحسن|3|Aït Lahcen
        Ait Said|آيت سعيد|3|Aït Saïd
        Ouahbi|وهبي|3|Wahbi
        Akhannouch|أخنوش|2|Akhanouch
        Boutaleb|بوطالب|4|Bou Taleb
        Belhaj|بلحاج|5|Belhadj
        Chaoui|الشاوي|5|Echaoui
        Doukkali|الدكالي|5|Doukali
        Jabri|الجابري|5|El Jabri
        Karimi|الكريمي|4|El Karimi
        Mernissi|المرنيسي|3|Mernisi
        Moussaoui|الموساوي|5|Moussaouí,Mousaoui
        Naji|ناجي|5|
        Ouardi|الوردي|4|El Ouardi
        Raji|الراجي|4|Erraji
        Sahraoui|الصحراوي|5|Essahraoui
        Saadi|السعدي|6|Essaadi
        Yacoubi|اليعقوبي|5|Yakoubi,Yaacoubi
        Zouhair|زهير|3|Zouheir
        Benmoussa|بنموسى|5|Ben Moussa
        Benchekroun|بنشقرون|4|Benchakroun
        Bensaid|بنسعيد|5|Ben Said
        Benslimane|بنسليمان|4|Ben Slimane
        Bakkali|البقالي|5|El Bakkali
        Haddad|الحداد|5|Elhaddad
        Hassani|الحسني|6|El Hassani
        Hilali|الهلالي|5|El Hilali
        Othmani|العثماني|5|El Othmani
        El Kadiri|القادري|5|Kadiri,Elqadiri
        Rahmouni|الرحموني|4|Errahmouni
        Sabri|صبري|4|
        Touzani|التوزاني|3|Ettouzani
        Zemmouri|الزموري|4|Zemouri
        Bouabid|بوعبيد|4|Bouabide
        Fikri|فكري|3|
        Ghazi|غازي|3|
        Chafik|شفيق|3|Chafiq
        Jaouhari|الجوهري|4|Jouhari
        Kabbaj|القباج|3|Kabaj
        Laaroussi|العروسي|4|Laroussi
        Maazouz|معزوز|3|Mazouz
        Najjar|النجار|4|Nejjar
        Regragui|الركراكي|4|Ragragui
        Sghir|الصغير|4|Esseghir
        Tounsi|التونسي|3|Ettounsi
        Yousfi|اليوسفي|5|El Yousfi
        Zaki|زكي|3|
        Belghiti|بلغيتي|3|Belrhiti
        Lahrichi|لحريشي|2|
        Benabdellah|بنعبد الله|4|Ben Abdellah
        Bennis|بنيس|3|Benis
        Berrahou|براحو|3|
        Boussif|بوسيف|3|Bousif
        Chahid|الشهيد|3|Echahid
        Daoudi|الداودي|4|Eddaoudi
        El Ghazouani|الغزواني|4|Ghazouani
        Essafi|الصافي|3|Safi
        Fadili|الفاضلي|4|Fadli
        Ghanmi|الغانمي|3|
        Hamdaoui|الحمداوي|4|Hamdawi
        Harrak|الحراك|3|Harak
        Jebli|الجبلي|4|El Jebli
        Khalfi|الخلفي|4|El Khalfi
        Lamrini|المريني|4|Merini
        Mabrouk|مبروك|3|
        Mouline|مولين|2|
        Nouri|النوري|4|Ennouri
        Ouali|الوالي|3|
        Rami|الرامي|3|Errami
        Saidi|السعيدي|5|Essaidi
        Semlali|السملالي|3|
        Taibi|الطيبي|4|Ettaibi
        Zniber|زنيبر|2|
        Amzil|أمزيل|3|
        Oubella|أوبلا|2|
        Outaleb|أوطالب|2|
        Ait Benhaddou|آيت بن حدو|2|Aït Benhaddou
        Ikhlef|إخلف|2|
        Agouram|أكورام|2|
        Boulahcen|بولحسن|3|Bou Lahcen
        Lakhdar|الأخضر|3|Lakhder
        Hamdouchi|الحمدوشي|3|
        Bouhlal|بوهلال|3|
        """)

    struct Name: Sendable {
        var latin: String
        var arabic: String
        var weight: Int
        var variants: [String]
    }

    static func parse(_ table: String) -> [Name] {
        table.split(separator: "\n").map { line in
            let parts = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return Name(
                latin: parts[0], arabic: parts[1], weight: Int(parts[2]) ?? 1,
                variants: parts[3].split(separator: ",").map(String.init))
        }
    }
}
